"""Big files read in pieces (what the Ray engine hands one task each): the pieces' records,
in order, are the whole file's, and every message names the same file:line."""

from __future__ import annotations

import json
import random

import pytest

from framework.data.sources import corpora, files, ranges
from framework.errors import PlaitError
from framework.records import TEXT, Rejects, column


def _read(builder, pieces, **extra):
    """Records of every piece in order, and the examples of what the pieces skipped."""
    texts, rejects = [], Rejects()
    for piece in pieces:
        kwargs = {k: v for k, v in piece.items() if k != "_name_"}
        if "rejects" in extra:
            kwargs["rejects"] = rejects
        try:
            texts += column(builder(**kwargs), TEXT)
        except PlaitError as e:
            if "no records" not in str(e):
                raise
    return texts, rejects


def _numbered(pieces):
    """``first_line`` of each ranged piece, as the Ray source sets it."""
    seen = {}
    for piece in pieces:
        if "byte_range" in piece:
            path = piece["paths"][0]
            piece["first_line"] = 1 + seen.get(path, 0)
            seen[path] = seen.get(path, 0) + ranges.line_starts(path, *piece["byte_range"])
    return pieces


@pytest.fixture
def lines():
    """Real lines of text: Python documentation pages, with blank and very long lines."""
    from framework.data.sources.corpora import python_docs

    texts = column(python_docs(max_chars=100_000), TEXT)
    out = [line for t in texts for line in t.splitlines()]
    rng = random.Random(0)
    out += ["", "x" * 5000, "   "]
    rng.shuffle(out)
    return out


@pytest.mark.parametrize("size", [97, 4096])
def test_jsonl_in_byte_ranges_reads_the_whole_files_records_and_line_numbers(
    tmp_path, monkeypatch, lines, size
):
    path = tmp_path / "docs.jsonl"
    rows = [json.dumps({"text": t}) if t.strip() else "" for t in lines]
    rows[17] = '{"text": 5}'  # malformed: skipped, named by its line
    rows[len(rows) // 2] = "[1, 2]"
    path.write_text("\n".join(rows) + "\n", "utf-8")
    monkeypatch.setattr(ranges, "RANGE_BYTES", size)
    params = {"paths": [str(path)], "bad_records": "skip"}
    pieces = _numbered(ranges.line_pieces(params))
    assert len(pieces) > 3 and all("byte_range" in p for p in pieces)
    whole_rejects = Rejects()
    whole = column(files.jsonl(**params, rejects=whole_rejects), TEXT)
    texts, rejects = _read(files.jsonl, pieces, rejects=True)
    assert texts == whole and rejects.count == whole_rejects.count == 2
    assert rejects.examples == whole_rejects.examples  # the same file:line
    assert f"{path}:18:" in rejects.examples[0]


def test_a_bad_record_in_a_later_piece_names_its_line_in_the_file(tmp_path, monkeypatch):
    path = tmp_path / "a.jsonl"
    rows = [json.dumps({"text": f"record {i}"}) for i in range(300)]
    rows[250] = "{broken"
    path.write_text("\n".join(rows) + "\n", "utf-8")
    monkeypatch.setattr(ranges, "RANGE_BYTES", 500)
    pieces = _numbered(ranges.line_pieces({"paths": [str(path)]}))
    with pytest.raises(PlaitError, match=rf"{path}:251: malformed JSON record"):
        _read(files.jsonl, pieces)


def test_text_files_of_line_records_in_byte_ranges(tmp_path, monkeypatch, lines):
    path = tmp_path / "docs.txt"
    path.write_text("\r\n".join(lines[:2000]), "utf-8")  # no final newline; Windows ends
    monkeypatch.setattr(ranges, "RANGE_BYTES", 1000)
    params = {"paths": [str(path)], "records": "line"}
    pieces = _numbered(files.text_pieces(params))
    assert len(pieces) > 10
    assert _read(files.text_files, pieces)[0] == column(files.text_files(**params), TEXT)
    # records that may cross any byte, or a character budget read in order: whole files
    for other in ({**params, "records": "paragraph"}, {**params, "max_chars": 10}):
        assert files.text_pieces(other) == [other]


def test_parquet_in_runs_of_row_groups(tmp_path, monkeypatch, lines):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"text": lines}), path, row_group_size=500)
    monkeypatch.setattr(ranges, "RANGE_BYTES", 20_000)
    pieces = ranges.row_group_pieces({"paths": [str(path)]})
    assert len(pieces) > 3 and all("row_groups" in p for p in pieces)
    assert _read(files.parquet, pieces)[0] == lines


def test_gcide_in_runs_of_dictzip_chunks_gives_the_whole_dictionarys_entries(monkeypatch):
    whole = list(corpora.gcide_entries())
    monkeypatch.setattr(ranges, "RANGE_BYTES", 100 * 58315)  # 100 chunks a piece: 7 pieces
    pieces = corpora.gcide_pieces({"repeat": 2})
    assert len(pieces) == 14 and pieces[0]["chunks"] == [0, 100] == pieces[7]["chunks"]
    got = [e for p in pieces[:7] for e in corpora.gcide_entries(*p["chunks"])]
    assert got == whole
    # one chunk a piece: entries cut by every chunk boundary still come out once, whole
    got = [e for k in range(40, 60) for e in corpora.gcide_entries(k, k + 1)]
    assert got == [e for e in corpora.gcide_entries(40, 60)]
