"""`childsafe sms-sandbox` as a process, and the settings-only wiring of the gateway to it."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alerts.gateway import PermanentSendError
from ops.bootstrap import build_gateway
from ops.settings import Settings

pytestmark = pytest.mark.realtime  # each test starts the `childsafe` CLI as a child process

CHILDSAFE = str(Path(sys.executable).parent / "childsafe")


def test_cli_serves_with_faults_and_stops_on_sigterm(tmp_path):
    out = tmp_path / "out.json"
    with out.open("w") as sink:
        proc = subprocess.Popen([CHILDSAFE, "sms-sandbox", "--port", "0", "--seed", "1",
                                 "--fault", r"unsubscribed:^\+447700900002$"], stdout=sink, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not out.read_text().strip().endswith("}"):
            time.sleep(0.05)
        url = json.loads(out.read_text())["sandbox"]
        settings = Settings(twilio_base_url=url, twilio_timeout_s=2.0)
        gateway = build_gateway(settings)
        assert gateway.send(to="+447700900001", body="hello", status_callback="").sid.startswith("SM")
        with pytest.raises(PermanentSendError) as err:
            gateway.send(to="+447700900002", body="hello", status_callback="")
        assert err.value.code == 21610
        assert [m.body for m in gateway.find_messages(to="+447700900001")] == ["hello"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


def test_bad_fault_spec_is_a_clear_cli_error():
    result = subprocess.run([CHILDSAFE, "sms-sandbox", "--port", "0", "--fault", "explode"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "fault" in result.stderr and "explode" in result.stderr
