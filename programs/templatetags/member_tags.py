from django import template

from programs import selectors

register = template.Library()


@register.simple_tag
def current_enrolment(user, program):
    """The member's active or paused enrolment in the program, for the program page's enrol box."""
    if not getattr(user, "is_authenticated", False):
        return None
    return selectors.member_current_enrolment(member=user, program=program)
