"""Reference implementations in PyTorch, one module per model family.

Every model is a ``torch.nn.Module`` with the same interface (DESIGN.md, principle 2):

- ``log_prob(x) -> Tensor[batch]``: log-likelihood in nats;
- ``sample(num_samples, generator=None, condition=None)``: ancestral sampling, where
  ``condition`` (a partial image with NaN for the unknown pixels) asks for completion.

Models live on ``course.device()`` when the caller moves them there; none calls
``.cuda()``.
"""

from course.models.fvsbn import FVSBN
from course.models.made import MADE, MaskedLinear
from course.models.nade import NADE, UntiedNADE

__all__ = ["FVSBN", "MADE", "NADE", "MaskedLinear", "UntiedNADE"]
