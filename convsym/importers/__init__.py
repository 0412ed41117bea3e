"""Importers: real models in, as convsym networks.

:func:`convsym.importers.keras_json.from_keras` reads a Keras ``model.to_json()`` document as
plain data (Keras is never imported); :func:`convsym.importers.torch_module.from_torch` walks
a live ``torch.nn.Module`` (torch is imported only when it is called).  Both map framework
layers through allowlist tables onto convsym's own layers and refuse anything else by name.

>>> from convsym.importers.keras_json import from_keras
>>> doc = {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
...     {"class_name": "InputLayer", "config": {"batch_shape": [None, 28, 28, 1]}},
...     {"class_name": "Conv2D", "config": {"name": "conv", "filters": 32,
...                                        "kernel_size": [3, 3]}}]}}
>>> from_keras(doc).rows[0].output_shape
(26, 26, 32)
"""
