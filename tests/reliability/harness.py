"""Run a generated project's train.py with one injected fault (for the reliability tests).

    python harness.py exit-after-save:K [train.py flags]  # die (like kill -9) after save K
    python harness.py pause-after-save:K [train.py flags] # wait after save K (for a real kill)
    python harness.py die-mid-save:K [train.py flags]     # die in the middle of writing save K
    python harness.py enospc-at-save:K [train.py flags]   # save K fails: no space left on device
    python harness.py nan-at-step:N [train.py flags]      # the model outputs NaN at step N
    python harness.py scaler-on:0 [train.py flags]        # an enabled gradient scaler (as float16
                                                          # on a GPU), on the CPU

Run in the project folder; it imports the project's own modules, as train.py does.
"""

import errno
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

import run_state  # noqa: E402
import torch  # noqa: E402
import train  # noqa: E402
from utils import UserError  # noqa: E402

fault, count = sys.argv[1].split(":")
limit = int(count)
sys.argv = ["train.py", *sys.argv[2:]]
calls = 0

if fault in ("exit-after-save", "pause-after-save"):
    real_save = run_state.save_checkpoint

    def save_then_die(*args, **kwargs):
        global calls
        real_save(*args, **kwargs)
        calls += 1
        if calls == limit and fault == "exit-after-save":
            os._exit(137)
        if calls == limit:  # the test kills it here: a kill -9 right after a save, every time
            time.sleep(3600)

    run_state.save_checkpoint = save_then_die

elif fault in ("enospc-at-save", "die-mid-save"):
    real_torch_save = torch.save

    def save_until_fault(obj, f, *args, **kwargs):
        global calls
        calls += 1
        if calls == limit:
            f.write(b"PK\x03\x04 half a checkpoint")
            f.flush()
            if fault == "die-mid-save":
                os._exit(137)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_torch_save(obj, f, *args, **kwargs)

    torch.save = save_until_fault

elif fault == "nan-at-step":
    real_build = train.build_model

    def build_with_nan(*args, **kwargs):
        model = real_build(*args, **kwargs)

        def hook(module, inputs, output):
            global calls
            if module.training:
                calls += 1
                if calls == limit:
                    return output * float("nan")
            return output

        model.register_forward_hook(hook)
        return model

    train.build_model = build_with_nan

elif fault == "scaler-on":
    real_mixed_precision = train.mixed_precision

    def with_scaler(cfg, device):
        _, autocast = real_mixed_precision(cfg, device)
        return torch.amp.GradScaler("cpu", enabled=True), autocast

    train.mixed_precision = with_scaler

else:
    sys.exit(f"unknown fault {fault}")

try:
    train.main()
except UserError as e:
    sys.exit(f"error: {e}")
