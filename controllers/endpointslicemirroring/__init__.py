"""The endpointslicemirroring controller: hand-made v1 Endpoints mirrored into EndpointSlices.

`desired` turns an Endpoints object into endpoint groups (pure); `controller`
wires it to the informers and plans the writes with the endpointslice
controller's reconciler and tracker.
"""

from .controller import EndpointSliceMirroringController

__all__ = ["EndpointSliceMirroringController"]
