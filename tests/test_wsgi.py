"""The WSGI entry point leaves the objects it loaded out of the collector's full passes."""

from tests.conftest import python_in_new_process

SCRIPT = """
import gc, time
import backoffice.wsgi
frozen = gc.get_freeze_count()
started = time.perf_counter()
gc.collect()
print(frozen, len(gc.get_objects()), time.perf_counter() - started)
"""


def test_loading_the_application_freezes_what_it_loaded():
    result = python_in_new_process(
        SCRIPT, env={"DJANGO_SETTINGS_MODULE": "backoffice.settings.test"}, timeout=120
    )
    frozen, tracked, _seconds = result.stdout.split()
    # Django and the apps are tens of thousands of objects; what a full pass still walks
    # afterwards is only what was created after the freeze.
    assert int(frozen) > 50_000
    assert int(tracked) < int(frozen) / 10
