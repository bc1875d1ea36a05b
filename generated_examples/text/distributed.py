"""One process, or many under torchrun: PyTorch's DistributedDataParallel, nothing home-made.

    python train.py                                          # one process, one device
    torchrun --nproc_per_node 4 train.py                     # 4 GPUs on this machine
    torchrun --nnodes 2 --nproc_per_node 4 --node_rank 0 \\
        --master_addr HOST0 --master_port 29500 train.py     # 2 machines (node_rank 1 on the other)

torchrun starts one process per device and sets RANK, WORLD_SIZE and LOCAL_RANK. Each
process trains on its own share of every batch; DDP averages the gradients, so all processes
hold the same weights after each step. Process 0 (the "main" one) alone prints, logs, plots and
saves checkpoints. Backend: nccl on CUDA, gloo on the CPU.
"""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from utils import UserError, pick_device

T = TypeVar("T")


@dataclass(frozen=True)
class Processes:
    """Where this process stands among the processes of one training run."""

    rank: int = 0  # 0 .. world - 1, across all machines
    world: int = 1  # number of processes
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """Process 0: the one that prints and writes files."""
        return self.rank == 0

    def share_of_batch(self, batch_size: int) -> int:
        """The samples of an optimizer step that each process computes."""
        if batch_size % self.world:
            raise UserError(
                f"--batch-size {batch_size} does not split evenly over {self.world} "
                f"processes: use a multiple of {self.world}"
            )
        return batch_size // self.world

    @property
    def device_ids(self) -> list[int] | None:
        """This process's GPU, for DistributedDataParallel and barrier() (None on the CPU)."""
        return [self.device.index or 0] if self.device.type == "cuda" else None

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """The sum of `value` over all processes (a copy; `value` itself is unchanged)."""
        if self.world == 1:
            return value
        total = value.detach().to(self.device, copy=True)
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total.to(value.device)

    def combine(self, state: dict[str, torch.Tensor], gathered: tuple[str, ...] = ()) -> dict:
        """Combine per-process metric state: entries named in `gathered` (per-sample values)
        are concatenated in rank order, every other entry (counts, sums) is added up."""
        if self.world == 1:
            return state
        return {
            key: torch.cat(self.gather(value.cpu())) if key in gathered else self.sum(value)
            for key, value in state.items()
        }

    def sync_buffers(self, model: torch.nn.Module) -> None:
        """Copy process 0's buffers (batch-norm statistics) to every process: each process
        updated them from its own last batch."""
        if self.world > 1:
            for buffer in model.buffers():
                dist.broadcast(buffer, src=0)

    def wait_for_all(self) -> None:
        """Wait until every process gets here: they then leave the process group together (a
        process that leaves while another still talks to it can be aborted by gloo)."""
        if self.world > 1:
            dist.barrier(device_ids=self.device_ids)

    def gather(self, value: T) -> list[T]:
        """Every process's `value`, in rank order (any picklable value)."""
        if self.world == 1:
            return [value]
        parts: list[Any] = [None] * self.world
        dist.all_gather_object(parts, value)
        return parts

    def on_main(self, work: Callable[[], T]) -> T:
        """Run `work` on process 0 only and hand its result, or its UserError, to every
        process (e.g. loading a checkpoint: one read, and no shared disk needed)."""
        result, error = None, None
        if self.main:
            try:
                result = work()
            except UserError as e:
                error = str(e)
        if self.world > 1:
            box = [(result, error)]
            dist.broadcast_object_list(box, src=0)
            result, error = box[0]
        if error is not None:
            raise UserError(error)
        return result  # type: ignore[return-value]


def is_main_process() -> bool:
    """Process 0, or the only process (usable before start())."""
    return os.environ.get("RANK", "0") == "0"


def start(device_name: str) -> Processes:
    """Join the process group when started by torchrun; otherwise one process on
    pick_device(device_name). Other processes than 0 print nothing."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:  # not under torchrun
        return Processes(device=pick_device(device_name))
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if rank != 0:
        sys.stdout = open(os.devnull, "w")  # one console, not one per process
    device = process_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=timedelta(minutes=30))
    return Processes(rank=rank, world=world, device=device)


def process_device(name: str, local_rank: int) -> torch.device:
    """One GPU per process (cuda:LOCAL_RANK), or the CPU. MPS has no multi-process backend."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = pick_device(name)
    if device.type == "mps":
        raise UserError("--device mps: torchrun needs CUDA or the CPU (--device cpu)")
    if device.type != "cuda":
        return device
    if device.index is not None:
        raise UserError(
            f"--device {name}: under torchrun each process uses cuda:LOCAL_RANK; pass "
            "--device cuda (choose GPUs with CUDA_VISIBLE_DEVICES)"
        )
    if local_rank >= torch.cuda.device_count():
        raise UserError(
            f"process {local_rank} has no GPU: --nproc_per_node is larger than the "
            f"{torch.cuda.device_count()} GPU(s) on this machine"
        )
    return torch.device("cuda", local_rank)


def stop() -> None:
    """Leave the process group (a no-op for one process)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
