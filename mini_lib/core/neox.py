"""GPT-NeoX in one screen: the training forward of a transformers ``GPTNeoXForCausalLM``, our own.

Why our own: the transformers forward is written for every use (caches, masks, outputs, hooks) and its
partial rotary (25% of each head) slices, negates and concatenates small tensors on every layer: a
quarter of a small model's CPU step. ``CompactNeoX`` computes the same function with a handful of
large ops and ends in the per-example loss, so a compiled training step holds the loss too.

It owns no weights of its own: it is built from a ``GPTNeoXForCausalLM`` and its submodules ARE that
model's (same parameter tensors, same ``state_dict`` keys). Training it trains the transformers model
in place, so ``save_pretrained``, ``from_pretrained`` and ``generate`` keep working unchanged.

It reads each layer's weights without calling the layer's ``forward``. FSDP gathers a sharded layer's
parameters in hooks around that ``forward``, so under FSDP the loop trains through the model's own forward
instead (``sharding``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GPTNeoXForCausalLM

from mini_lib.core.evaluate import per_example_loss


def supports(model: nn.Module) -> bool:
    """Whether ``CompactNeoX`` computes exactly what ``model`` computes: GPT-NeoX with the default
    rotary and no dropout (dropout would draw random numbers in a different order)."""
    if not isinstance(model, GPTNeoXForCausalLM) or model.gpt_neox.gradient_checkpointing:
        return False
    config = model.config
    return (
        config.rope_parameters.get("rope_type", "default") == "default"
        and config.hidden_dropout == 0
        and config.attention_dropout == 0
    )


def rotary_tables(head_dim: int, rotary_dims: int, base: float, max_len: int) -> tuple[torch.Tensor, ...]:
    """Rotary as ``x * cos + rotate_half(x) * sin`` over the full (query, key) width of one head.

    GPT-NeoX rotates the first ``rotary_dims`` of each head, pairing dim i with i + rotary_dims/2
    (``rotate_half``). Over the other dims cos = 1 and sin = 0, so no slicing or concatenation is
    needed. An odd ``rotary_dims`` rotates one more dim, as transformers does.

    Returns cos and sin (max_len, 2 * head_dim; sin carries ``rotate_half``'s minus signs) and its
    permutation both as an index (gather form) and as a 0/1 matrix (``x @ rotation``: one matmul).
    """
    inv_freq = 1.0 / (base ** (torch.arange(0, rotary_dims, 2, dtype=torch.float) / rotary_dims))
    angles = torch.arange(max_len, dtype=torch.float)[:, None] * inv_freq
    angles = torch.cat((angles, angles), dim=-1)  # as transformers, which rounds odd rotary_dims up
    rotary_dims = angles.shape[-1]
    width = 2 * head_dim  # query then key of one head
    cos, sin = torch.ones(max_len, width), torch.zeros(max_len, width)
    source, sign = torch.arange(width), torch.ones(width)
    half = rotary_dims // 2
    for start in (0, head_dim):  # the query's dims, then the key's
        cos[:, start : start + rotary_dims] = angles.cos()
        sin[:, start : start + rotary_dims] = angles.sin()
        first, second = torch.arange(start, start + half), torch.arange(start + half, start + rotary_dims)
        source[first], source[second] = second, first  # rotate_half(x) = (-x2, x1)
        sign[first] = -1.0
    rotation = torch.zeros(width, width)
    rotation[source, torch.arange(width)] = 1.0  # x @ rotation == x[..., source]
    return cos, sin * sign, source, rotation


class CompactNeoX(nn.Module):
    """``forward(input_ids, labels) -> per-example mean token loss`` of a ``GPTNeoXForCausalLM``,
    sharing its parameters; ``logits(input_ids)`` gives the model's logits."""

    def __init__(self, model: GPTNeoXForCausalLM):
        super().__init__()
        config = model.config
        # The same attribute names as GPTNeoXForCausalLM: the state_dict keys are the model's own.
        self.gpt_neox = model.gpt_neox
        self.lm_head = model.get_output_embeddings()
        self.n_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // self.n_heads
        self.parallel_residual = config.use_parallel_residual
        rotary_dims = int(self.head_dim * config.rope_parameters.get("partial_rotary_factor", 1.0))
        cos, sin, source, rotation = rotary_tables(
            self.head_dim, rotary_dims, config.rope_parameters["rope_theta"], config.max_position_embeddings
        )
        for name, table in (("cos", cos), ("sin", sin), ("source", source), ("rotation", rotation)):
            self.register_buffer(name, table, persistent=False)  # derived from the config, never saved

    def rotary(self, qk: torch.Tensor) -> torch.Tensor:
        """Rotary on queries and keys at once: qk is (batch, seq, heads, 2 * head_dim)."""
        seq = qk.shape[1]
        cos, sin = self.cos[:seq, None, :], self.sin[:seq, None, :]
        # Compiled, the gather fuses into one elementwise kernel; eager, one small matmul is cheapest.
        rotated = qk[..., self.source] if torch.compiler.is_compiling() else qk @ self.rotation.to(qk.dtype)
        return torch.addcmul(qk * cos, rotated, sin)

    def attention(self, layer: nn.Module, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, seq, width = x.shape
        attn = layer.attention
        # query_key_value is laid out per head as [q, k, v] (head_dim each), as transformers reads it.
        qkv = attn.query_key_value(x).view(batch, seq, self.n_heads, 3 * self.head_dim)
        qk = self.rotary(qkv[..., : 2 * self.head_dim])
        q, k = qk.transpose(1, 2).split(self.head_dim, dim=-1)
        v = qkv[..., 2 * self.head_dim :].transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        return attn.dense(out.transpose(1, 2).reshape(batch, seq, width))

    @staticmethod
    def mlp(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        mlp = layer.mlp
        return mlp.dense_4h_to_h(mlp.act(mlp.dense_h_to_4h(x)))

    def hidden(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The final layer norm's output (batch, seq, hidden)."""
        mask = None
        if attention_mask is not None:  # causal and not onto padding; a pad still sees itself (no empty rows)
            seq = input_ids.shape[1]
            causal = torch.ones(seq, seq, dtype=torch.bool, device=input_ids.device).tril()
            diagonal = torch.eye(seq, dtype=torch.bool, device=input_ids.device)
            mask = (causal & (attention_mask[:, None, None, :].bool() | diagonal))
        x = self.gpt_neox.embed_in(input_ids)
        for layer in self.gpt_neox.layers:
            attn_out = self.attention(layer, layer.input_layernorm(x), mask)
            # Sums in transformers' order, so fp32 results match to the last bits.
            if self.parallel_residual:  # x + attn(ln1(x)) + mlp(ln2(x))
                x = self.mlp(layer, layer.post_attention_layernorm(x)) + attn_out + x
            else:  # h = x + attn(ln1(x)); h + mlp(ln2(h))
                x = attn_out + x
                x = self.mlp(layer, layer.post_attention_layernorm(x)) + x
        return self.gpt_neox.final_layer_norm(x)

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.lm_head(self.hidden(input_ids, attention_mask))

    def forward(
        self, input_ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-example mean next-token loss (batch,), ``evaluate.per_example_loss``'s definition.

        Inside one compiled region with the model, the fp32 upcast of the logits fuses into the
        cross-entropy kernel instead of materialising (batch, seq, vocab) fp32 logits.
        """
        return per_example_loss(self.logits(input_ids, attention_mask), labels)
