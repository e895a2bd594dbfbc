"""Fully sharded data parallel (FSDP2) for the training loop: each process keeps 1/N of the parameters,
gradients and optimizer state, and gathers a layer's parameters only while that layer runs, so a model
whose weights and AdamW state do not fit one device still trains, with the numbers of one process.

Asked for the way Accelerate asks for it: ``ACCELERATE_USE_FSDP=true`` in the environment. ``accelerate
launch`` sets it (and the ``FSDP_*`` settings) from an FSDP config such as ``configs/accelerate/fsdp_8gpu.yaml``;
``python -m mini_lib train --fsdp`` sets it for launchers that do not, such as torchrun. The settings are
read through Accelerate's ``FullyShardedDataParallelPlugin``.

* ``shard``: torch's ``fully_shard`` on each layer the config names (``GPTNeoXLayer``), then on the whole
  model (embeddings, final norm and head). Accelerate shards only on accelerators: on CPU it runs the same
  config as plain data parallel, silently. So the loop shards the model itself on every device and hands
  Accelerate a model that is already sharded; the CPU tests run the code a GPU runs.
* The forward is the model's own. FSDP2 gathers a layer's parameters in hooks around that layer's
  ``forward``; ``neox.CompactNeoX`` reads the layers' weights without calling their ``forward``, so it would
  meet shards, not weights. Under FSDP the loop trains through ``GPTNeoXForCausalLM.forward``, and
  evaluation, callbacks and sampling call the same sharded model, whose hooks gather for them too.
* Precision as elsewhere in the loop: fp32 weights, with bf16 matmuls under autocast when asked. Gathers
  and gradient reductions stay in fp32 (a bf16 ``MixedPrecisionPolicy`` would halve that traffic, at the
  price of numbers that differ from data parallel's).
* Checkpoints: ``torch.distributed.checkpoint`` writes each process's shards of the model and of AdamW's
  state, plus metadata saying where each piece belongs; loading reshards, so a run saved on N processes
  resumes on M. ``checkpoints`` commits, verifies and chooses them as it does full ones.
"""

from __future__ import annotations

import functools
import os
from typing import Callable

import torch
from accelerate import Accelerator
from accelerate.utils import DynamoBackend, FullyShardedDataParallelPlugin, gather_object
from torch.distributed.checkpoint import load as load_shards
from torch.distributed.checkpoint import save as save_shards
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FSDPModule, fully_shard
from torch.distributed.fsdp.api import StateDictType

from mini_lib.core.checkpoints import StateIO
from mini_lib.core.errors import ConfigError


def requested(accelerator: Accelerator) -> FullyShardedDataParallelPlugin | None:
    """The FSDP settings when the launcher asked for FSDP, else None; settings this module does not
    implement are a ConfigError naming the one to change."""
    if os.environ.get("ACCELERATE_USE_FSDP", "false").lower() != "true":
        return None
    plugin = getattr(accelerator.state, "fsdp_plugin", None) or FullyShardedDataParallelPlugin()
    if plugin.fsdp_version != 2:
        raise ConfigError(f"fsdp_version {plugin.fsdp_version}: mini_lib shards with FSDP2; set fsdp_version: 2")
    if plugin.state_dict_type != StateDictType.SHARDED_STATE_DICT:
        raise ConfigError(f"fsdp_state_dict_type {plugin.state_dict_type.name}: mini_lib's checkpoints are "
                          "sharded (resumable on any number of processes); set SHARDED_STATE_DICT")
    if plugin.activation_checkpointing:
        raise ConfigError("fsdp_activation_checkpointing is not supported by mini_lib's loop; set it to false")
    if not torch.distributed.is_initialized():
        raise ConfigError("FSDP needs a process group: start with torchrun or accelerate launch, even for one process")
    return plugin


def shard(model: torch.nn.Module, plugin: FullyShardedDataParallelPlugin, device: torch.device) -> torch.nn.Module:
    """Shard ``model`` in place over all processes, onto ``device``: each layer of the classes the config
    names (default: the model's ``_no_split_modules``, GPTNeoXLayer for GPT-NeoX) is one unit, gathered
    while it runs; the rest (embeddings, final norm, head) belongs to the root unit."""
    names = set(plugin.transformer_cls_names_to_wrap or getattr(model, "_no_split_modules", None) or [])
    layers = [m for m in model.modules() if type(m).__name__ in names]
    if not layers:
        raise ConfigError(f"fsdp_transformer_layer_cls_to_wrap {sorted(names)} matches no layer of "
                          f"{type(model).__name__}; name its layer class (GPTNeoXLayer for GPT-NeoX)")
    options = {"mesh": init_device_mesh(device.type, (torch.distributed.get_world_size(),)),
               "reshard_after_forward": plugin.reshard_after_forward, "offload_policy": plugin.cpu_offload}
    for layer in layers:
        fully_shard(layer, **options)
    fully_shard(model, **options)
    return model


def prepare(accelerator: Accelerator, model: torch.nn.Module, plugin: FullyShardedDataParallelPlugin,
            make_optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer],
            ) -> tuple[torch.nn.Module, torch.optim.Optimizer, StateIO]:
    """Shard ``model`` in place, build its optimizer over the shards, hand both to Accelerate, and say how
    checkpoints hold them. Where Accelerate runs FSDP itself (GPUs) it takes the sharded model as it is;
    elsewhere it would wrap the model in DDP, so it gets the optimizer only (which makes
    ``optimizer.step`` wait for the last accumulated micro-batch)."""
    optimizer = make_optimizer(shard(model, plugin, accelerator.device))
    if accelerator.is_fsdp2:
        trained, optimizer = accelerator.prepare(model, optimizer)  # compiled there when asked
    else:
        trained, optimizer = model, accelerator.prepare(optimizer)
        if accelerator.state.dynamo_plugin.backend != DynamoBackend.NO:
            trained = torch.compile(model, **accelerator.state.dynamo_plugin.to_kwargs())
    io = StateIO(functools.partial(save_state, model, optimizer), functools.partial(load_state, model, optimizer),
                 "sharded")
    return trained, optimizer, io


def save_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, folder: str) -> None:
    """Every process writes its shards of the model and of the optimizer state into ``folder``."""
    model_state, optimizer_state = get_state_dict(model, _unwrapped(optimizer))
    save_shards({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=folder)


def load_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer, folder: str) -> None:
    """Load a checkpoint of ``save_state``, whatever the number of processes that wrote it."""
    optimizer = _unwrapped(optimizer)
    model_state, optimizer_state = get_state_dict(model, optimizer)
    state = {"model": model_state, "optimizer": optimizer_state}
    load_shards(state, checkpoint_id=folder)
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])


def describe(model: torch.nn.Module) -> dict:
    """How the parameters are spread: per unit (each sharded layer, and the root's own parameters) the
    number of parameters and how many of them each process holds. Called on every process."""
    units = {name: module for name, module in model.named_modules() if isinstance(module, FSDPModule) and name}
    in_units = {id(p) for module in units.values() for p in module.parameters()}
    groups = {name: list(module.parameters()) for name, module in units.items()}
    groups["(root: embeddings, final norm, head)"] = [p for p in model.parameters() if id(p) not in in_units]
    local = [[sum(p.to_local().numel() for p in params) for params in groups.values()]]
    per_process = gather_object(local)  # one list per process, in rank order
    return {name: {"parameters": sum(p.numel() for p in params), "per_process": [held[i] for held in per_process]}
            for i, (name, params) in enumerate(groups.items())}


def _unwrapped(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """The torch optimizer inside Accelerate's wrapper (its state_dict is what DCP reshards)."""
    return getattr(optimizer, "optimizer", optimizer)
