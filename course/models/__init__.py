"""Reference implementations in PyTorch, one module per model family.

Every model is an :class:`~course.models.base.AutoregressiveModel` (the course's one model
contract, in ``base.py``): ``log_prob(x) -> Tensor[batch]`` in nats, ``logits(x)`` for all
conditionals, ``ordering()``, and ``sample(num_samples, generator=None, condition=None)``
by the one ancestral sampler, where ``condition`` (a partial image with NaN for the unknown
pixels) asks for completion. Importing this package registers every family in
:data:`REGISTRY`, which the contract test runs over.

Models live on ``course.device()`` when the caller moves them there; none calls
``.cuda()``. ``counting.py`` holds the reference parameter counts of topic 01;
``rnn.py`` the recurrent models of topic 05 (a character RNN with RNN, GRU or LSTM cells,
and a pixel RNN), ``ngram.py`` the n-gram baselines they are compared with.
``pixelcnn.py`` holds the masked and gated convolutional models of topic 06.
Topic 07's models are not autoregressive and are not registered: ``pca.py`` holds PCA,
principal angles and probabilistic PCA in NumPy, ``autoencoder.py`` the linear, deep and
convolutional autoencoders in torch.
"""

from course.models.base import REGISTRY, AutoregressiveModel, Family, register
from course.models.fvsbn import FVSBN
from course.models.made import MADE, MaskedLinear
from course.models.nade import NADE, UntiedNADE
from course.models.pixelcnn import GatedPixelCNN, MaskedConv2d, PixelCNN
from course.models.rnn import CharRNN, PixelRNN

__all__ = [
    "FVSBN",
    "GatedPixelCNN",
    "MADE",
    "NADE",
    "REGISTRY",
    "AutoregressiveModel",
    "CharRNN",
    "Family",
    "MaskedConv2d",
    "MaskedLinear",
    "PixelCNN",
    "PixelRNN",
    "UntiedNADE",
    "register",
]
