"""The endpointslice controller: discovery.k8s.io/v1 EndpointSlices for selector Services.

`desired` turns pods into endpoints grouped by their ports, `reconciler` plans
the slice writes, `tracker` keeps a sync from acting on a cache older than
the controller's own writes, and `controller` wires them to the informers.
"""

from .controller import EndpointSliceController

__all__ = ["EndpointSliceController"]
