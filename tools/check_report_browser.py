#!/usr/bin/env python
"""Check in a real headless Chromium that a fairrep report page renders.

Opens ``<report_dir>/index.html`` (written by
``fairrep.experiments.write_report``) in headless Chromium and verifies that
every ``<table>`` of the file is in the rendered page with all its rows and
that every ``<img>`` has loaded (``complete`` and ``naturalWidth > 0``): the
figures are inline ``data:`` URIs, so a broken one means a corrupt PNG.

How: a copy of the page gets an extra inline script that, on ``load``,
writes a JSON summary of the tables and images into ``<pre
id="fairrep-check">``; ``chromium --headless --dump-dom`` prints the DOM
after the page has loaded and the summary is read from it. The expected
counts come from parsing the file itself with :mod:`html.parser`.

Usage::

    python tools/check_report_browser.py REPORT_DIR [--json]
        [--screenshot PAGE.png] [--chromium PATH] [--timeout 60]

Exit status 0 when the page renders as expected, 1 otherwise (with the
reasons on stderr). The binary is looked up from ``--chromium``, then
``$CHROMIUM``, then ``chromium``, ``chromium-browser`` and ``google-chrome``
on ``PATH``; on Debian, ``apt-get install chromium`` provides it.
"""

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["check_report", "find_chromium", "main"]

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
MARKER_ID = "fairrep-check"

# Runs on `load`, i.e. once every image (data URIs included) has been decoded
# or has failed; the summary goes into the DOM so that --dump-dom carries it.
_PROBE = """
<script>
window.addEventListener("load", function () {
  var tables = Array.prototype.map.call(document.querySelectorAll("table"),
    function (table) {
      var box = table.getBoundingClientRect();
      return {id: table.id || null, rows: table.rows.length,
              width: box.width, height: box.height};
    });
  var images = Array.prototype.map.call(document.querySelectorAll("img"),
    function (img) {
      return {alt: img.alt, complete: img.complete,
              naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
              width: img.width, height: img.height};
    });
  var summary = {
    title: document.title,
    tables: {count: tables.length, rows: tables.map(function (t) { return t.rows; }),
             details: tables},
    images: {count: images.length,
             loaded: images.filter(function (i) {
               return i.complete && i.naturalWidth > 0; }).length,
             details: images}
  };
  var pre = document.createElement("pre");
  pre.id = "__MARKER_ID__";
  pre.textContent = JSON.stringify(summary);
  document.body.appendChild(pre);
});
</script>
""".replace("__MARKER_ID__", MARKER_ID)


class _SourceCounter(HTMLParser):
    """Tables (with their row counts) and images as written in the file."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.table_rows = []
        self._open = []
        self.images = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table_rows.append(0)
            self._open.append(len(self.table_rows) - 1)
        elif tag == "tr" and self._open:
            self.table_rows[self._open[-1]] += 1
        elif tag == "img":
            self.images += 1

    def handle_endtag(self, tag):
        if tag == "table" and self._open:
            self._open.pop()


def find_chromium(chromium=None):
    """Path of a Chromium binary, or None when none is found.

    Parameters
    ----------
    chromium : str or path-like, default=None
        Explicit binary (a path, or a name looked up on ``PATH``); when given
        it is the only candidate.

    Returns
    -------
    path : str or None
    """
    if chromium is not None:
        candidates = [str(chromium)]
    elif os.environ.get("CHROMIUM"):
        candidates = [os.environ["CHROMIUM"]]
    else:
        candidates = list(CANDIDATES)
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _base_command(binary, profile):
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        "--mute-audio",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]


def _run(command, timeout):
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(
            f"Chromium did not finish within timeout={timeout} s: {' '.join(command)}"
        ) from error


def _with_probe(page):
    closing = page.lower().rfind("</body>")
    if closing < 0:
        return page + _PROBE
    return page[:closing] + _PROBE + page[closing:]


def _parse_summary(dom):
    match = re.search(
        rf'<pre id="{MARKER_ID}">(.*?)</pre>', dom, flags=re.DOTALL | re.IGNORECASE
    )
    if match is None:
        return None
    return json.loads(html.unescape(match.group(1)))


def check_report(report_dir, *, chromium=None, screenshot=None, timeout=60):
    """Render a report page in headless Chromium and check its tables and images.

    Parameters
    ----------
    report_dir : str or path-like
        Folder holding ``index.html``.
    chromium : str or path-like, default=None
        Chromium binary; see :func:`find_chromium` for the default lookup.
    screenshot : str or path-like, default=None
        When given, also save a 1280x2000 screenshot of the page there.
    timeout : float, default=60
        Seconds allowed to each Chromium run.

    Returns
    -------
    summary : dict
        ``ok`` (bool), ``problems`` (list of str, empty when ok),
        ``expected`` (tables' row counts and image count parsed from the
        file), ``tables`` and ``images`` (what the browser rendered: counts,
        row counts, how many images loaded, per-element details),
        ``chromium`` (binary), ``version`` and ``screenshot`` (path or None).

    Raises
    ------
    FileNotFoundError
        When ``index.html`` or a Chromium binary cannot be found.
    RuntimeError
        When Chromium fails or times out.
    """
    page_path = Path(report_dir) / "index.html"
    if not page_path.is_file():
        raise FileNotFoundError(f"no index.html in report_dir={str(report_dir)!r}.")
    binary = find_chromium(chromium)
    if binary is None:
        wanted = chromium or os.environ.get("CHROMIUM") or ", ".join(CANDIDATES)
        raise FileNotFoundError(
            f"no Chromium binary found (looked for {wanted}); pass --chromium PATH, "
            "set $CHROMIUM, or install one (Debian: apt-get install chromium)."
        )
    page = page_path.read_text(encoding="utf-8")
    counter = _SourceCounter()
    counter.feed(page)
    counter.close()
    expected = {
        "tables": {"count": len(counter.table_rows), "rows": counter.table_rows},
        "images": {"count": counter.images},
    }

    version = _run([binary, "--version"], timeout).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="fairrep-check-") as scratch:
        scratch = Path(scratch)
        probed = scratch / "index.html"
        probed.write_text(_with_probe(page), encoding="utf-8")
        budget = max(1000, int(timeout * 1000 / 4))
        command = _base_command(binary, scratch / "profile") + [
            f"--virtual-time-budget={budget}",
            "--dump-dom",
            probed.as_uri(),
        ]
        result = _run(command, timeout)
        summary = _parse_summary(result.stdout)
        if summary is None:
            raise RuntimeError(
                f"Chromium (exit status {result.returncode}) printed no check summary; "
                f"the page may not have finished loading. stderr:\n"
                f"{result.stderr.strip()[-2000:]}"
            )

        shot = None
        if screenshot is not None:
            shot = Path(screenshot).resolve()
            shot.parent.mkdir(parents=True, exist_ok=True)
            command = _base_command(binary, scratch / "profile-shot") + [
                f"--virtual-time-budget={budget}",
                f"--screenshot={shot}",
                "--window-size=1280,2000",
                page_path.resolve().as_uri(),
            ]
            result = _run(command, timeout)
            if not shot.is_file() or shot.stat().st_size == 0:
                raise RuntimeError(
                    f"Chromium (exit status {result.returncode}) wrote no screenshot "
                    f"to {shot}. stderr:\n{result.stderr.strip()[-2000:]}"
                )

    problems = []
    rendered_tables, rendered_images = summary["tables"], summary["images"]
    if rendered_tables["count"] != expected["tables"]["count"]:
        problems.append(
            f"{rendered_tables['count']} tables rendered, "
            f"{expected['tables']['count']} in the file"
        )
    elif rendered_tables["rows"] != expected["tables"]["rows"]:
        problems.append(
            f"table row counts rendered {rendered_tables['rows']}, in the file "
            f"{expected['tables']['rows']}"
        )
    for position, table in enumerate(rendered_tables["details"]):
        if table["width"] <= 0 or table["height"] <= 0:
            problems.append(f"table {position} ({table['id']}) has no visible size")
    if rendered_images["count"] != expected["images"]["count"]:
        problems.append(
            f"{rendered_images['count']} images rendered, "
            f"{expected['images']['count']} in the file"
        )
    for position, image in enumerate(rendered_images["details"]):
        if not (image["complete"] and image["naturalWidth"] > 0):
            problems.append(f"image {position} ({image['alt']!r}) did not load")
    return {
        "ok": not problems,
        "problems": problems,
        "expected": expected,
        "tables": rendered_tables,
        "images": rendered_images,
        "title": summary.get("title"),
        "chromium": binary,
        "version": version,
        "screenshot": None if shot is None else str(shot),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Check in headless Chromium that a fairrep report page renders "
        "(every table with its rows, every image loaded)."
    )
    parser.add_argument("report_dir", help="folder holding index.html")
    parser.add_argument(
        "--chromium", help="Chromium binary (default: $CHROMIUM, then PATH)"
    )
    parser.add_argument(
        "--screenshot", help="also save a 1280x2000 PNG of the page here"
    )
    parser.add_argument(
        "--timeout", type=float, default=60, help="seconds per Chromium run"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        summary = check_report(
            args.report_dir,
            chromium=args.chromium,
            screenshot=args.screenshot,
            timeout=args.timeout,
        )
    except (FileNotFoundError, RuntimeError) as error:
        print(f"check_report_browser: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary, indent=2))
    if summary["ok"]:
        tables = summary["tables"]
        print(
            f"OK: {tables['count']} tables (rows {tables['rows']}), "
            f"{summary['images']['loaded']}/{summary['images']['count']} images loaded "
            f"in {summary['version']}",
            file=sys.stderr,
        )
        return 0
    print("FAILED: " + "; ".join(summary["problems"]), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
