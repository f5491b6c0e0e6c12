import pytest

# The files that take longest, started first: under pytest-xdist (``--dist loadfile``) a long
# file handed out last would run alone at the end while the other process waits.
SLOW_FIRST = (
    "tests/disputes/test_queue_queries.py",
    "tests/notifications/test_simulation.py",
    "tests/disputes/test_setup.py",
    "tests/browser/test_queue_browser.py",
    "tests/disputes/test_queue_pagination.py",
    "tests/disputes/test_demo_history.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    rank = {path: n for n, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(autouse=True)
def _filings_without_bundles(request, settings):
    """Tests of the state machines file responses without PDFs; tests marked
    ``bundle_gate`` keep the rule that a filing needs a submitted bundle."""
    if request.node.get_closest_marker("bundle_gate") is None:
        settings.FILING_REQUIRES_BUNDLE = False


def UserFactory(**kwargs):  # imported lazily, so pure tests run without Django
    from tests.factories import UserFactory as factory

    return factory(**kwargs)


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role="ops_agent")


@pytest.fixture
def agent2(db):
    return UserFactory(username="agent2", role="ops_agent")


@pytest.fixture
def lead(db):
    return UserFactory(username="lead", role="ops_lead")


@pytest.fixture
def cs_user(db):
    return UserFactory(username="cs", role="customer_success")


@pytest.fixture
def compliance(db):
    return UserFactory(username="compliance", role="compliance")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role="admin", is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def checkpoint_storage(settings, tmp_path):
    """Each test writes its case-history checkpoints to a folder of its own, so a checkpoint
    of one test's disputes is never compared with another test's."""
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "checkpoints")},
        },
    }
    return tmp_path / "checkpoints"
