"""Reading an import file: CSV in UTF-8 (with or without a byte-order mark) or GBK, Excel with
real date-time cells, headers in English, in Chinese or as API names; and every file refused
with a 400 on ``file`` in the user's language."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook

from tests.trucks.importing import (
    checked,
    csv_bytes,
    errors_of,
    good_row,
    read_csv,
    read_xlsx,
    registered,
    table,
    xlsx_bytes,
)
from trucks.importing import columns, reading
from trucks.models import Trip

pytestmark = pytest.mark.django_db
UPLOAD = "/api/v1/trip-imports/"


def _upload(client: Any, content: bytes, name: str = "trips.csv", language: str = "en") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        UPLOAD,
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.fixture
def client(api_client: Any, dispatcher: Any) -> Any:
    api_client.force_authenticate(dispatcher)
    return api_client


def _refusal(response: Any) -> tuple[int, str, list[str]]:
    body = response.json()
    return response.status_code, body["code"], body["fields"]["file"]


def test_an_empty_file_is_refused(client: Any) -> None:
    assert _refusal(_upload(client, b"")) == (400, "empty_file", ["The file is empty."])
    assert _refusal(_upload(client, b"\xef\xbb\xbf\r\n")) == (
        400,
        "empty_file",
        ["The file is empty."],
    )


def test_a_header_without_rows_is_refused(client: Any, checkpoint: Any) -> None:
    status, code, _messages = _refusal(_upload(client, csv_bytes([])))
    assert (status, code) == (400, "empty_file")


def test_a_file_of_another_kind_is_refused(client: Any) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    message = ["This is neither a CSV nor an Excel (xlsx) file."]
    assert _refusal(_upload(client, png, "trips.png")) == (400, "unknown_format", message)
    broken_zip = b"PK\x03\x04" + b"\x00" * 100
    assert _refusal(_upload(client, broken_zip, "trips.xlsx")) == (400, "unknown_format", message)


def test_the_message_is_in_the_users_language(client: Any) -> None:
    _status, _code, messages = _refusal(_upload(client, b"", language="zh-hans"))
    with translation.override("zh-hans"):
        assert messages == [translation.gettext("The file is empty.")]


def test_a_file_over_the_row_limit_is_refused(client: Any, checkpoint: Any) -> None:
    row = good_row(checkpoint.code)
    content = csv_bytes([row] * (reading.MAX_ROWS + 1))
    assert _refusal(_upload(client, content)) == (
        400,
        "too_many_rows",
        ["The file has more than 10,000 rows: import at most 10,000 at a time."],
    )


def test_a_file_over_the_size_limit_is_refused(client: Any) -> None:
    content = b"vehicle_plate\n" + b"x" * reading.MAX_BYTES
    assert _refusal(_upload(client, content)) == (
        400,
        "file_too_large",
        ["The file is larger than 10 MB: split it into smaller files."],
    )


def test_a_csv_with_a_quote_left_open_is_refused(client: Any, checkpoint: Any) -> None:
    # The open quote swallows the rest of the file into one cell, longer than the csv module
    # reads: a refusal on the file, not a server error.
    content = csv_bytes([good_row(checkpoint.code)]) + b'"' + b"x" * 200_000 + b"\n"
    assert _refusal(_upload(client, content)) == (
        400,
        "unknown_format",
        ["This CSV file cannot be read: check that each quote is closed."],
    )


def test_a_sheet_of_blank_rows_past_the_limit_is_refused_without_reading_it_all(
    client: Any, checkpoint: Any
) -> None:
    # A few kilobytes zipped: a header, one row, then rows of nothing but a blank cell far out
    # to the right, as a sheet formatted down to its millionth row looks.
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for line in table([good_row(checkpoint.code)]):
        sheet.append(line)
    for _i in range(2 * reading.MAX_ROWS):
        sheet.append([None] * 300 + [" "])
    buffer = io.BytesIO()
    book.save(buffer)
    assert _refusal(_upload(client, buffer.getvalue(), "trips.xlsx")) == (
        400,
        "too_many_rows",
        ["The file has more than 10,000 rows: import at most 10,000 at a time."],
    )


def test_a_header_row_with_no_known_column_is_refused(client: Any) -> None:
    status, code, _messages = _refusal(_upload(client, b"name,amount\nfoo,1\n"))
    assert (status, code) == (400, "unknown_columns")


def test_missing_required_columns_are_named(client: Any, checkpoint: Any) -> None:
    fields = [f for f in columns.FIELDS if f not in ("cargo_category", "test_result")]
    content = csv_bytes([good_row(checkpoint.code)], headers=None)
    text = content.decode()
    header, *rest = text.splitlines()
    kept = [i for i, f in enumerate(columns.FIELDS) if f in fields]
    lines = [",".join(line.split(",")[i] for i in kept) for line in [header, *rest]]
    response = _upload(client, "\n".join(lines).encode())
    assert _refusal(response) == (
        400,
        "missing_columns",
        ["These columns are missing: Cargo category, Test result."],
    )


def test_headers_in_english_chinese_or_api_names_are_all_accepted(
    dispatcher: Any, checkpoint: Any
) -> None:
    with translation.override("zh-hans"):
        chinese = columns.headers()
    assert chinese[:3] == ["车牌号", "司机姓名", "司机身份证号"]
    with translation.override("en"):
        english = [f"  {h.upper()} " for h in columns.headers()]  # case and spaces
    for n, headers in enumerate((english, chinese, list(columns.FIELDS))):
        rows = [good_row(checkpoint.code, 700 + n)]
        trip_import = checked(dispatcher, csv_bytes(rows, headers))
        assert (trip_import.valid, trip_import.invalid) == (1, 0), errors_of(trip_import)


def test_the_template_made_under_chinese_is_read_back_and_its_example_is_valid(
    client: Any, dispatcher: Any, checkpoint: Any
) -> None:
    for format, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        response = client.get(f"{UPLOAD}template.{format}", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200
        lines = read(response.content)
        with translation.override("zh-hans"):
            assert lines[0] == columns.headers()
        example = dict(zip(columns.FIELDS, lines[1], strict=True))
        assert example["entry_checkpoint"] == checkpoint.code
        arrival = datetime.fromisoformat(example["planned_arrival"])
        assert arrival.date() > timezone.localdate()
        trip_import = checked(dispatcher, response.content, f"template.{format}")
        assert (trip_import.valid, trip_import.invalid) == (1, 0), errors_of(trip_import)


def test_csv_saved_by_chinese_excel_in_gbk_is_read(dispatcher: Any, checkpoint: Any) -> None:
    with translation.override("zh-hans"):
        headers = columns.headers()
    content = csv_bytes([good_row(checkpoint.code)], headers, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    trip_import = registered(checked(dispatcher, content))
    assert trip_import.registered == 1
    trip = Trip.objects.get()
    assert trip.destination_name == "焦作市某物流园"
    assert trip.driver.name == "李师傅"


def test_csv_with_a_byte_order_mark_is_read(dispatcher: Any, checkpoint: Any) -> None:
    content = csv_bytes([good_row(checkpoint.code)], encoding="utf-8-sig")
    assert content.startswith(b"\xef\xbb\xbf")
    assert checked(dispatcher, content).valid == 1


def test_excel_with_real_date_time_cells_is_read_in_the_deployments_zone(
    dispatcher: Any, checkpoint: Any
) -> None:
    local = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    arrival = local + timedelta(hours=9)
    row = good_row(
        checkpoint.code,
        planned_arrival=arrival,
        planned_departure=local + timedelta(hours=30),
        test_sampled_at=local - timedelta(hours=3),
        driver_phone=13912340001,  # a number cell, as Excel keeps a phone typed in it
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in table([row]):
        sheet.append(line)
    assert isinstance(sheet.cell(row=2, column=11).value, datetime)
    import io

    out = io.BytesIO()
    book.save(out)
    trip_import = registered(checked(dispatcher, out.getvalue(), "trips.xlsx"))
    assert trip_import.registered == 1, errors_of(trip_import)
    trip = Trip.objects.get()
    assert timezone.localtime(trip.planned_arrival).replace(tzinfo=None) == arrival
    assert trip.driver.phone == "13912340001"


def test_times_may_be_written_with_slashes_or_as_iso(dispatcher: Any, checkpoint: Any) -> None:
    later = timezone.localtime() + timedelta(hours=9)
    rows = [
        good_row(checkpoint.code, 801, planned_arrival=later.strftime("%Y/%m/%d %H:%M")),
        good_row(checkpoint.code, 802, planned_arrival=later.isoformat()),
    ]
    trip_import = checked(dispatcher, xlsx_bytes(rows), "trips.xlsx")
    assert (trip_import.valid, trip_import.invalid) == (2, 0), errors_of(trip_import)
