"""The customer's self-service session (H5): the flow live, the monitor, documents, speech, assembly."""
