"""The multi-host lab: Schooner clusters whose nodes are Docker-in-Docker containers.

`topology` describes the containers and the address plan; `compose` renders it
for docker-compose (`make lab`, `schooner lab up`); `testing.SchoonerCluster`
starts the same containers through testcontainers for integration tests; `node`
is each node container's init (dockerd, agent, proxy).
"""
