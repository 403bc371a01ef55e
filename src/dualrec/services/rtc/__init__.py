"""Remote human interviews (远程双录) on the Janus WebRTC server: its configuration and supervision,
rooms and access per task attempt, and the recording of the call (docs/remote-interview.md)."""
