"""Each protection is a test that fails when the protection is removed: a mutation check.

For every guard in the table below, this script removes the guard in a scratch copy of the
committed tree (``git archive REV``, never the working tree other people are editing), runs the
tests that must notice, and reports the mutant "killed" (a test failed: good) or "SURVIVED"
(nothing noticed: a missing test). A baseline run first checks that those tests pass unmutated.

    OMP_WAIT_POLICY=PASSIVE GENLAB_THREADS=1 nice -n 10 python tests/reliability/guard_mutants.py
    python tests/reliability/guard_mutants.py --list                 # the table only
    python tests/reliability/guard_mutants.py --only checksum nan-stop

Exit status 0 when every mutant is killed. Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CRASH = "tests/reliability/test_crash_safety.py::"
UNTRUSTED = "tests/reliability/test_untrusted_inputs.py::"
STUDIO = "tests/reliability/test_studio_security.py::"
NUMERIC = "tests/reliability/test_numerical_faults.py::"


@dataclass(frozen=True)
class Mutant:
    id: str
    what: str  # the protection, in words
    edits: tuple[tuple[str, str, str], ...]  # (file under src/genlab, exact source, replacement without the guard)
    tests: tuple[str, ...]  # pytest node ids of which at least one must fail


def m(id_: str, what: str, file: str, find: str, replace: str, *tests: str, more: tuple = ()) -> Mutant:
    return Mutant(id_, what, ((file, find, replace), *more), tests)


MUTANTS = [
    # ---------------------------------------------------------------- checkpoints and atomic writes
    m(
        "atomic-write",
        "files are written to a temp file and renamed over the target",
        "utils/io.py",
        "    with atomic_path(path) as tmp:\n        Path(tmp).write_bytes(data)",
        "    Path(path).write_bytes(data)",
        CRASH + "test_a_checkpoint_write_cut_short_keeps_the_previous_one",
    ),
    m(
        "atomic-tmp-cleanup",
        "a failed write removes its temp file",
        "utils/io.py",
        "    except OSError as e:\n        with contextlib.suppress(OSError):\n            os.unlink(tmp)",
        "    except OSError as e:\n        pass",
        CRASH + "test_full_disk_keeps_previous_checkpoint",
        CRASH + "test_a_checkpoint_write_cut_short_keeps_the_previous_one",
    ),
    m(
        "full-disk-message",
        "a full disk is a one-line 'no space left' error",
        "utils/io.py",
        "if e.errno == errno.ENOSPC:",
        "if False:",
        CRASH + "test_full_disk_keeps_previous_checkpoint",
        CRASH + "test_full_disk_training_run_fails_cleanly",
    ),
    m(
        "checksum",
        "the sidecar's SHA-256 is verified on load",
        "train/checkpoint.py",
        'if len(data) != meta.get("bytes") or hashlib.sha256(data).hexdigest() != meta.get("sha256"):',
        "if False:",
        CRASH + "test_a_damaged_checkpoint_is_detected_and_resume_skips_it",
    ),
    m(
        "resume-skips-damaged",
        "resume falls back to the newest checkpoint that verifies",
        "train/checkpoint.py",
        '            print(f"genlab: skipping damaged checkpoint: {e}", file=sys.stderr)',
        "            raise",
        CRASH + "test_a_damaged_checkpoint_is_detected_and_resume_skips_it",
    ),
    # ---------------------------------------------------------------- pickles
    m(
        "pickle-refused",
        "pickle-based weights need --trust-pickle",
        "train/checkpoint.py",
        "    if not trust:\n",
        "    if False:\n",
        CRASH + "test_pickles_are_refused_unless_trusted",
    ),
    m(
        "pickle-weights-only",
        "trusted pickles are still read with weights_only=True",
        "train/checkpoint.py",
        "weights_only=True)",
        "weights_only=False)",
        CRASH + "test_pickles_are_refused_unless_trusted",
    ),
    m(
        "pickle-suffix-import",
        "`genlab import` routes .pt/.pkl/.ckpt files to the pickle gate",
        "cli.py",
        "    if path.suffix in PICKLE_SUFFIXES:\n        weights = load_pickle_weights",
        "    if False:\n        weights = load_pickle_weights",
        CRASH + "test_pickles_are_refused_unless_trusted",
    ),
    m(
        "pickle-suffix-load",
        "load_checkpoint names a pickle for what it is",
        "train/checkpoint.py",
        "    if path_stem.suffix in PICKLE_SUFFIXES:\n",
        "    if False:\n",
        CRASH + "test_pickles_are_refused_unless_trusted",
    ),
    m(
        "npz-no-pickle",
        "dataset .npz files are read with allow_pickle=False",
        "data/datasets.py",
        "with np.load(path, allow_pickle=False) as z:",
        "with np.load(path, allow_pickle=True) as z:",
        UNTRUSTED + "test_npz_files_are_never_unpickled",
    ),
    m(
        "index-no-pickle",
        "search indexes are read with allow_pickle=False",
        "pipelines/search.py",
        "with np.load(path, allow_pickle=False) as z:",
        "with np.load(path, allow_pickle=True) as z:",
        UNTRUSTED + "test_npz_files_are_never_unpickled",
    ),
    # ---------------------------------------------------------------- IDX / NPZ / images
    m(
        "idx-magic",
        "IDX files must start with a valid magic number",
        "data/idx.py",
        "if zero != 0 or code not in _DTYPES or ndim == 0:",
        "if code not in _DTYPES or ndim == 0:",
        "tests/test_foundation_data.py::test_idx_validation",
    ),
    m(
        "idx-truncated",
        "IDX data shorter than its header promises is refused",
        "data/idx.py",
        "    if len(data) < expected:\n",
        "    if False:\n",
        "tests/test_foundation_data.py::test_idx_validation",
    ),
    m(
        "idx-trailing",
        "IDX data longer than its header declares is refused",
        "data/idx.py",
        "    if len(data) > expected:\n",
        "    if False:\n",
        "tests/test_foundation_data.py::test_idx_validation",
    ),
    m(
        "gzip-corrupt",
        "a corrupt deflate stream is a clean error",
        "data/idx.py",
        "except (OSError, EOFError, zlib.error) as e:",
        "except (OSError, EOFError) as e:",
        "tests/fuzz/test_fuzz_loaders.py::test_read_idx_mutated_gzip",
    ),
    m(
        "gzip-bomb",
        "gzip files are decompressed only up to the size limit",
        "data/idx.py",
        "raw = f.read(MAX_IDX_BYTES + 1)",
        "raw = f.read()",
        UNTRUSTED + "test_a_gzip_bomb_is_decompressed_only_up_to_the_limit",
    ),
    m(
        "nan-loader",
        "NaN/Inf images are refused by the loader",
        "data/datasets.py",
        "    if not np.isfinite(x).all():\n",
        "    if False:\n",
        NUMERIC + "test_inf_in_images_is_refused_by_the_loader",
    ),
    m(
        "nan-loader-and-engine",
        "NaN images are refused before training (loader and engine checks both removed)",
        "data/datasets.py",
        "    if not np.isfinite(x).all():\n",
        "    if False:\n",
        NUMERIC + "test_nan_in_the_data_is_refused",
        more=(("train/engine.py", "if data is not None and not torch.isfinite(data.x_train).all():", "if False:"),),
    ),
    m(
        "image-bytes",
        "images over 50 MB are refused before decoding",
        "data/images.py",
        "    if len(data) > MAX_IMAGE_BYTES:\n",
        "    if False:\n",
        UNTRUSTED + "test_images_over_the_byte_limit_are_refused",
    ),
    m(
        "image-pixels",
        "images over 64 M pixels are refused from the header, whatever Pillow's setting",
        "data/images.py",
        "if w * h > MAX_IMAGE_PIXELS or w <= 0 or h <= 0:",
        "if w <= 0 or h <= 0:",
        UNTRUSTED + "test_the_pixel_limit_holds_when_pillows_own_guard_is_off",
    ),
    m(
        "image-content",
        "a file that is not an image (whatever its name) is a clean error",
        "data/images.py",
        "except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as e:",
        "except (SyntaxError, EOFError, struct.error) as e:",
        STUDIO + "test_uploads_are_checked_by_content_not_name",
    ),
    m(
        "list-no-symlinks-out",
        "image folders are listed without symlinks leading out",
        "data/images.py",
        "                p.resolve().relative_to(root)",
        "                p.relative_to(folder)",
        STUDIO + "test_image_folders_are_listed_without_symlinks_out",
    ),
    # ---------------------------------------------------------------- studio edge
    m(
        "upload-size",
        "uploads over the size limit are refused",
        "app/safety.py",
        "    if len(data) > settings.max_upload_bytes:\n",
        "    if False:\n",
        STUDIO + "test_uploads_over_the_size_limit_are_refused",
    ),
    m(
        "upload-pixels",
        "uploads over the studio's pixel limit are refused from the header",
        "app/safety.py",
        "if wh is not None and wh[0] * wh[1] > MAX_UPLOAD_PIXELS:",
        "if False:",
        STUDIO + "test_pixel_bombs_are_refused_from_the_header_without_decoding",
    ),
    m(
        "path-escape",
        "paths are resolved ('..' and symlinks) before the folder check",
        "app/safety.py",
        "    real = p.resolve()\n",
        "    real = p.absolute()\n",
        STUDIO + "test_folders_only_inside_the_allowed_roots",
    ),
    m(
        "symlink-out",
        "symlinks are followed before the folder check",
        "app/safety.py",
        "    real = p.resolve()\n",
        "    real = Path(__import__('os').path.normpath(p.absolute()))\n",
        STUDIO + "test_folders_only_inside_the_allowed_roots",
    ),
    m(
        "path-prefix",
        "the folder check compares path components, not string prefixes",
        "app/safety.py",
        "if real.is_relative_to(root.resolve()):",
        "if str(real).startswith(str(root.resolve())):",
        STUDIO + "test_folders_only_inside_the_allowed_roots",
    ),
    m(
        "read-size-limit",
        "files read inside the allowed folders are size-limited",
        "app/safety.py",
        "        if real.stat().st_size > limit:\n",
        "        if False:\n",
        STUDIO + "test_folders_only_inside_the_allowed_roots",
    ),
    m(
        "bind-local",
        "the studio listens on 127.0.0.1 unless told otherwise",
        "app/cli.py",
        'p.add_argument("--host", default="127.0.0.1"',
        'p.add_argument("--host", default="0.0.0.0"',
        STUDIO + "test_studio_binds_to_localhost_by_default_without_usage_stats",
    ),
    m(
        "bind-warning",
        "listening on another address prints a warning",
        "app/cli.py",
        "    if a.host not in LOCAL_HOSTS:\n",
        "    if False:\n",
        STUDIO + "test_studio_warns_when_exposed_on_another_address",
    ),
    # ---------------------------------------------------------------- numerical faults
    m(
        "nan-stop",
        "a non-finite loss stops training, naming the step",
        "train/engine.py",
        "                if not math.isfinite(loss):\n",
        "                if False:\n",
        NUMERIC + "test_diverging_loss_stops_and_keeps_the_last_good_checkpoint",
    ),
    m(
        "gan-divergence",
        "a discriminator pinned at 100% for d_pinned_steps stops the run with a message",
        "gans/base.py",
        "if self.cfg.collapse_stop and self.d_pinned >= self.cfg.d_pinned_steps:",
        "if False:",
        "tests/test_gans_dcgan.py::test_a_failed_run_stops_with_a_clear_message_and_keeps_its_checkpoint[discriminator-sets1-100% right on every batch]",
    ),
    # ---------------------------------------------------------------- run store, search index, downloads
    m(
        "index-atomic",
        "the search index is written atomically",
        "pipelines/search.py",
        "        with atomic_path(path) as tmp:\n",
        "        with __import__('contextlib').nullcontext(path) as tmp:\n",
        CRASH + "test_a_search_index_write_cut_short_keeps_the_previous_index",
    ),
    m(
        "metrics-torn-line",
        "a torn last line of metrics.jsonl is skipped on read",
        "train/runstore.py",
        "        except json.JSONDecodeError:\n            continue",
        "        except json.JSONDecodeError:\n            raise",
        CRASH + "test_torn_metrics_line_is_tolerated",
    ),
    m(
        "metrics-torn-utf8",
        "a line torn inside a UTF-8 character is read too",
        "train/runstore.py",
        'read_text(encoding="utf-8", errors="replace")',
        'read_text(encoding="utf-8")',
        CRASH + "test_torn_metrics_line_is_tolerated",
    ),
    m(
        "download-checksum",
        "downloads are verified against their MD5",
        "data/download.py",
        "        if h.hexdigest() != expected_md5:\n",
        "        if False:\n",
        "tests/test_foundation_data.py::test_download_verifies_and_never_leaves_partial_files",
    ),
    m(
        "download-no-partial",
        "a failed download leaves no partial file",
        "utils/io.py",
        "    except BaseException:\n        with contextlib.suppress(OSError):\n            os.unlink(tmp)\n",
        "    except BaseException:\n",
        "tests/test_foundation_data.py::test_download_verifies_and_never_leaves_partial_files",
    ),
]


def export_tree(rev: str, dest: Path) -> None:
    """The committed tree at ``rev`` (no uncommitted edits of anyone) unpacked into ``dest``."""
    tar = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest, filter="data")


def check_table(root: Path, mutants: list[Mutant]) -> list[str]:
    """Every snippet must occur exactly once in its file, or the table is out of date."""
    problems = []
    for mu in mutants:
        for file, find, _ in mu.edits:
            path = root / "src" / "genlab" / file
            n = path.read_text().count(find) if path.exists() else -1
            if n != 1:
                problems.append(f"{mu.id}: {file} holds the snippet {n} times (expected once): {find.strip()[:70]!r}")
    return problems


def run_tests(root: Path, nodes: tuple[str, ...], timeout: float) -> tuple[int | None, float, str]:
    """(pytest exit code or None on timeout, child CPU seconds, output)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(root / "src"),
        "OMP_WAIT_POLICY": "PASSIVE",
        "GENLAB_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "--no-header",
        *nodes,
    ]
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # pytest and the CLI processes it started
        out, code = proc.communicate()[0], None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return code, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def first_failure(out: str) -> str:
    for line in out.splitlines():
        if line.startswith(("FAILED", "ERROR")) or line.startswith("E  "):
            return re.sub(r"\s+", " ", line)[:110]
    return out.strip().splitlines()[-1][:110] if out.strip() else ""


def apply(root: Path, mu: Mutant) -> dict[Path, str]:
    """Remove the guard; returns the original text of every file touched."""
    originals: dict[Path, str] = {}
    for file, find, replace in mu.edits:
        path = root / "src" / "genlab" / file
        text = path.read_text()
        originals.setdefault(path, text)
        path.write_text(text.replace(find, replace, 1))
    return originals


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", default="HEAD", help="commit to check (default HEAD)")
    ap.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants")
    ap.add_argument("--list", action="store_true", help="print the table and exit")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of the tests")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per pytest run (a timeout counts as killed)")
    a = ap.parse_args(argv)
    mutants = [mu for mu in MUTANTS if not a.only or mu.id in a.only]
    if a.only and len(mutants) != len(set(a.only)):
        print(f"unknown mutant ids: {sorted(set(a.only) - {mu.id for mu in MUTANTS})}", file=sys.stderr)
        return 2
    if a.list:
        for mu in mutants:
            print(
                f"{mu.id:24} {mu.what}\n{'':24} {', '.join(f for f, _, _ in mu.edits)} -> {' '.join(t.split('::')[-1] for t in mu.tests)}"
            )
        return 0
    root = Path(tempfile.mkdtemp(prefix="genlab-mutants-"))
    t0 = time.time()
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", a.rev], capture_output=True, text=True, check=True
        ).stdout.strip()
        export_tree(commit, root)
        problems = check_table(root, mutants)
        if problems:
            print("the mutant table is out of date:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 2
        total_cpu = 0.0
        if not a.no_baseline:
            nodes = tuple(dict.fromkeys(t for mu in mutants for t in mu.tests))
            code, cpu, out = run_tests(root, nodes, a.timeout * 2)
            total_cpu += cpu
            print(
                f"baseline: {len(nodes)} tests unmutated -> {'pass' if code == 0 else 'FAIL'} ({cpu:.0f} CPU s)",
                flush=True,
            )
            if code != 0:
                print(out[-3000:], file=sys.stderr)
                return 2
        results = []
        for mu in mutants:
            originals = apply(root, mu)
            try:
                code, cpu, out = run_tests(root, mu.tests, a.timeout)
            finally:
                for path, text in originals.items():
                    path.write_text(text)
            total_cpu += cpu
            verdict = {0: "SURVIVED", 1: "killed", None: "killed (timeout)"}.get(code, f"ERROR (pytest exit {code})")
            results.append((mu, verdict))
            print(f"{mu.id:24} {verdict:16} {cpu:5.0f} CPU s  {'' if code == 0 else first_failure(out)}", flush=True)
        killed = sum(v.startswith("killed") for _, v in results)
        print(
            f"\n{len(results)} mutants, {killed} killed, {len(results) - killed} not killed "
            f"({total_cpu:.0f} CPU s, {time.time() - t0:.0f} s wall, commit {commit})"
        )
        for mu, v in results:
            if not v.startswith("killed"):
                print(f"  {v}: {mu.id} ({mu.what}); expected a failure in {', '.join(mu.tests)}")
        return 0 if killed == len(results) else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
