import pytest
from django.core.exceptions import ValidationError

from accounts.validators import validate_timezone


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"])
def test_it_accepts_iana_place_names(name):
    validate_timezone(name)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "europe/berlin", "", "localtime", "Factory", "posix/Europe/Berlin"]
)
def test_it_refuses_names_that_are_not_places(name):
    with pytest.raises(ValidationError):
        validate_timezone(name)
