# Local image builds (no registry): `include deploy/images/images.mk` from the
# top Makefile, or run `make -f deploy/images/images.mk images` from the repo root.
# Every image is labelled with a content hash of its inputs and rebuilt only when
# that hash changes, so a second `make images` is a quick no-op.
#   images                all of them but the node image
#   image-busybox         schooner/busybox:latest (FROM scratch + busybox-static; the pause image)
#   image-python          schooner/python:3 (debootstrap bookworm minbase + python3-flask, -psycopg2)
#   image-web             schooner/web-example:1 and :2 (examples/web; on image-python)
#   image-postgres        schooner/postgres:15 (debootstrap bookworm minbase + postgresql-15)
#   image-flask-postgres  schooner/flask-postgres:1 (examples/flask-postgres; on image-python)
#   image-in-cluster      schooner/in-cluster-example:1 (examples/in-cluster; its own rootfs
#                         with Debian's python3-kubernetes)
#   host-etcd             Debian's etcd-server (3.4.23) on this host, for `make up` and tests
#   image-node            schooner/node:latest, the lab's hosts: dockerd, docker-registry and
#                         Schooner from wheels built here, on schooner/node-base:latest (all but
#                         Schooner's code); the top layer is rebuilt whenever the source changes

SCHOONER_IMAGES_PREV_GOAL := $(.DEFAULT_GOAL)
SCHOONER_IMAGES_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# build.py needs only the standard library; prefer the project venv's Python 3.11.
SCHOONER_IMAGES_PYTHON ?= $(firstword $(wildcard $(SCHOONER_IMAGES_DIR)/../../.venv/bin/python) python3)
SCHOONER_IMAGES_BUILD := $(SCHOONER_IMAGES_PYTHON) $(SCHOONER_IMAGES_DIR)/build.py

.PHONY: host-etcd images image-busybox image-python image-web image-postgres image-flask-postgres image-in-cluster image-node

images:
	@$(SCHOONER_IMAGES_BUILD) all

# Not an image: Debian's etcd-server on this host (apt-get when missing), as debootstrap.
host-etcd:
	@$(SCHOONER_IMAGES_BUILD) host-etcd

image-busybox:
	@$(SCHOONER_IMAGES_BUILD) busybox

image-python:
	@$(SCHOONER_IMAGES_BUILD) python

image-web:
	@$(SCHOONER_IMAGES_BUILD) web

image-postgres:
	@$(SCHOONER_IMAGES_BUILD) postgres

image-flask-postgres:
	@$(SCHOONER_IMAGES_BUILD) flask-postgres

image-in-cluster:
	@$(SCHOONER_IMAGES_BUILD) in-cluster

image-node:
	@$(SCHOONER_IMAGES_BUILD) node

# Included before any other target, do not become the including Makefile's default goal.
ifneq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := $(SCHOONER_IMAGES_PREV_GOAL)
endif
