"""authentication.k8s.io: reviews of who a request (or a token) authenticates as."""
