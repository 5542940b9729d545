"""SPDY/3.1, the stream multiplexing kubectl's port-forward still speaks (inside WebSocket
binary frames): frames and header compression (`frames`), a server session (`session`)."""
