"""What runs on the recording device (the local QC agent): local tasks and packages, sync to the server."""
