"""Stretch pictures and videos in templates: everything from programs.media, nothing looked up."""

from django import template

from programs import media

register = template.Library()


@register.filter
def pictures(stretch) -> list[media.Picture]:
    """The stretch's pictures in order (from the prefetched `images`)."""
    return [media.picture(image) for image in stretch.images.all()]


@register.filter
def stretch_video(stretch) -> media.Video | None:
    return media.video(stretch)


@register.inclusion_tag("programs/_stretch_media.html")
def stretch_media(stretch, sizes: str = "100vw"):
    """The stretch's pictures and video, marked up for the pages and for the guided player to pick from."""
    return {"stretch": stretch, "pictures": pictures(stretch), "video": media.video(stretch), "sizes": sizes}
