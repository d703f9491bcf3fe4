"""From an HTTP report to an open mandatory-report case to the duty officers' alert request, on the
real broker: streams worker (subprocess) → case command → case consumer → case in the DB → alert."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from consumers.cases.models import MandatoryReportCase
from consumers.store.db import make_engine, session_factory, transaction
from contracts.codec import decode
from contracts.events import AlertRequestedEvent
from contracts.topics import ALERTS_REQUESTED
from ops.bootstrap import run_case_consumer
from ops.settings import Settings
from ops.topics_admin import apply_topics
from streams.triage import case_id_for
from tests.cases_fixtures import DISTRICT, SCHOOL, seed_organisations
from tests.factories import incident
from tests.integration.helpers import StreamsWorker, read_topic

pytestmark = pytest.mark.integration


def test_http_report_opens_one_case_and_asks_to_alert_the_duty_officers(kafka_bootstrap, tmp_path):
    namespace = f"e2e{uuid.uuid4().hex[:8]}"
    db_url = f"sqlite:///{tmp_path / 'childsafe.db'}"
    from consumers.store.migrate import upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as session:
        seed_organisations(session)
    apply_topics(kafka_bootstrap, namespace)
    settings = Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=db_url)
    stop = threading.Event()
    consumer = threading.Thread(target=run_case_consumer, args=(settings, stop), daemon=True)
    consumer.start()
    worker = StreamsWorker(kafka_bootstrap, namespace, tmp_path)
    worker.start()
    try:
        worker.wait_http()
        body = incident(school_id=SCHOOL, district_code=DISTRICT, category="sexual_assault", severity="serious",
                        children=[{"age": 12, "sex": "female"}],
                        reporter={"role": "teacher", "unit_id": SCHOOL, "name": "测试教师丙", "confidential": True})
        for _ in range(3):  # a nervous officer presses send three times
            resp = worker.post("/v1/incidents", body, headers={"Idempotency-Key": "e2e-report-1"})
            assert resp.status_code == 202, resp.text
        case_id = case_id_for("e2e-report-1")
        duty = f"case-duty:{case_id}".encode()
        records = read_topic(kafka_bootstrap, ALERTS_REQUESTED.name(namespace), timeout=90,
                             until=lambda rs: any(r.key == duty for r in rs), settle=3.0)
        alerts = [decode(r.value, AlertRequestedEvent) for r in records if r.key == duty]
        assert len(alerts) == 1
        alert = alerts[0].data
        assert alert.sensitive and alert.priority.value == "emergency" and alert.audience.district_code == DISTRICT
        assert {"public_security", "civil_affairs", "education", "womens_federation"} <= {
            a.value for a in alert.audience.agencies}
        assert alerts[0].correlationid == "e2e-report-1", "one correlation id from intake to the alert"
        assert "测试教师丙" not in records[0].value.decode()
        with session_factory(engine)() as session:
            cases = session.scalars(select(MandatoryReportCase)).all()
        assert [(c.case_id, c.report_id) for c in cases] == [(case_id, "e2e-report-1")]
        assert cases[0].state == "forwarded"
    finally:
        worker.stop()
        stop.set()
        consumer.join(30)
        engine.dispose()
