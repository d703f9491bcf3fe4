"""The indicators pages over plain HTTP: who may see which area, refusals that name the field, and exports that
carry exactly the page's figures (suppressed cells included)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from console.accounts import AccountError, create_user
from console.indicators import w
from consumers.cases.errors import InvalidCaseInput
from tests.cases_fixtures import CaseWorld
from tests.console_fixtures import FAST_HASHER, PASSWORD, Browserless, add_people, build_app, make_console, start_client
from tests.indicator_world import MONTH, build, expected_sms

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture()
async def client(db_url):
    world = CaseWorld(db_url)
    add_people(world.transaction, world.clock.now())
    with world.transaction() as s:
        records = build(s, now=NOW)
    with world.transaction() as s:
        create_user(s, "wcc1", PASSWORD, "indicators_province", "140000", "测试妇儿工委甲", NOW, hasher=FAST_HASHER)
        create_user(s, "city1", PASSWORD, "indicators_city", "140100", "测试甲市乙", NOW, hasher=FAST_HASHER)
    c = await start_client(build_app(make_console(world)))
    c.records = records  # the made-up province's records: the oracle
    yield c
    await c.close()
    world.close()


async def signed_in(client, username: str) -> Browserless:
    person = Browserless(client)
    assert (await person.sign_in(username)).status == 303
    return person


async def test_the_province_drills_down_to_a_city_and_a_district(client):
    await signed_in(client, "wcc1")
    home = await client.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/indicators"
    for area, names in (("140000", ["测试甲市", "测试乙市"]), ("140100", ["测试甲市测试一区"]), ("140105", ["测试甲市测试一区"])):
        resp = await client.get(f"/indicators/{area}?month={MONTH}")
        text = await resp.text()
        assert resp.status == 200, text
        assert all(n in text for n in names)
        assert f'data-cell="{area}:incidents"' in text


async def test_the_province_page_counts_sms_whose_recipient_has_no_district_apart(client):
    sent, delivered = expected_sms(client.records, None)
    assert sent > 0
    await signed_in(client, "wcc1")
    province = await (await client.get(f"/indicators/140000?month={MONTH}")).text()
    note = province.split('data-cell="unknown:sms">', 1)[1].split("</p>", 1)[0]
    assert note.strip() in {w("sms_unknown", lang, sent=f"{sent:,}", delivered=f"{delivered:,}") for lang in ("zh-CN", "en")}
    assert 'data-cell="unknown:sms"' not in await (await client.get(f"/indicators/140100?month={MONTH}")).text()


async def test_a_city_sees_only_itself_and_its_districts(client):
    await signed_in(client, "city1")
    assert (await client.get("/indicators", allow_redirects=False)).headers["Location"] == "/indicators/140100"
    assert (await client.get(f"/indicators/140106?month={MONTH}")).status == 200
    for other in ("140200", "140202", "140000", "310115", "１４０１００"):
        assert (await client.get(f"/indicators/{other}?month={MONTH}")).status == 404, other
        assert (await client.get(f"/indicators/{other}/export.csv?month={MONTH}")).status == 404, other


async def test_other_roles_are_refused_and_bad_input_is_named(client):
    await signed_in(client, "police1")
    assert (await client.get(f"/indicators/140000?month={MONTH}")).status == 403
    assert (await client.get("/indicators")).status == 403
    client.session.cookie_jar.clear()
    await signed_in(client, "wcc1")
    for month in ("2026-13", "２０２６-１０", "2026-10\u200b", "🙂" * 50):
        resp = await client.get("/indicators/140000", params={"month": month})
        assert resp.status == 422 and "month" in await resp.text(), month
    resp = await client.get(f"/indicators/149999?month={MONTH}")
    assert resp.status == 422 and "area" in await resp.text()


async def test_csv_and_xlsx_carry_the_pages_figures(client):
    await signed_in(client, "wcc1")
    page = await (await client.get(f"/indicators/140100?month={MONTH}")).text()
    resp = await client.get(f"/indicators/140100/export.csv?month={MONTH}")
    assert resp.status == 200 and resp.headers["Content-Disposition"].endswith('indicators-140100-2026-10.csv"')
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    head, body = rows[0], rows[1:-1]
    assert [r[1] for r in body] == ["140105", "140106", "140107", "140100"]
    at = {name: i for i, name in enumerate(head)}
    for r in body:
        shown = page.split(f'data-cell="{r[1]}:incidents">', 1)[1].split("<", 1)[0]
        assert shown.replace(",", "") == r[at["事件数"]]
        cases = page.split(f'data-cell="{r[1]}:cases">', 1)[1].split("<", 1)[0]
        assert cases == r[at["强制报告个案"]]
    book = load_workbook(io.BytesIO(await (await client.get(f"/indicators/140100/export.xlsx?month={MONTH}")).read()))
    sheet = [[("" if v is None else str(v)) for v in row] for row in book.active.iter_rows(values_only=True)]
    assert sheet[0] == head
    assert [[number(v) for v in row] for row in sheet[1:-1]] == [[number(v) for v in r] for r in body]


def number(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def test_indicator_accounts_must_name_an_area_of_their_level(db_url):
    world = CaseWorld(db_url)
    with world.transaction() as s:
        build(s, now=NOW)
    for role, unit in (("indicators_city", "140105"), ("indicators_city", "140000"), ("indicators_province", "140100"),
                       ("indicators_city", "999900")):
        with world.transaction() as s, pytest.raises((AccountError, InvalidCaseInput)) as refused:
            create_user(s, f"u{unit}{role[-4:]}", PASSWORD, role, unit, "测试", NOW, hasher=FAST_HASHER)
        assert "unit" in str(refused.value)
    world.close()
