"""Server-side apply and field ownership (`metadata.managedFields`).

`fieldset` holds sets of field paths and their FieldsV1 encoding, `typed` the
schema-driven walks (field sets, comparison, merge, removal), `managed` the
bookkeeping every write does, `apply` the apply operation, and `request` what a
request says about its writer (the `fieldManager` parameter or the User-Agent).
"""
