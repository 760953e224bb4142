"""Django's own words that reach Chorus's pages, marked again so our catalogues carry them.

Django's catalogues for our languages are incomplete (Khmer has about a third of its form and
password messages; Thai, Armenian and Swahili miss a few, and some read oddly), so a page in
Khmer would show "This field is required." or "Wed" in English. Catalogues in LOCALE_PATHS win
over Django's, so these msgids, copied exactly from Django 5.2, are translated in
src/chorus/locale with the rest. This module is never imported; `makemessages` reads it.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

DJANGO_STRINGS = [
    # Weekday abbreviations (the `D` date format: calendar headers, DATETIME_FORMAT).
    _("Mon"),
    _("Tue"),
    _("Wed"),
    _("Thu"),
    _("Fri"),
    _("Sat"),
    _("Sun"),
    # Form validation (django.forms, django.core.validators).
    _("This field is required."),
    _("Enter a valid email address."),
    _("Enter a valid URL."),
    _("Enter a valid date."),
    _("Enter a valid time."),
    _("Enter a valid date/time."),
    _("Enter a whole number."),
    _("Enter a number."),
    _("The submitted file is empty."),
    _("No file was submitted. Check the encoding type on the form."),
    _("Upload a valid image. The file you uploaded was either not an image or a corrupted image."),
    _("Select a valid choice. %(value)s is not one of the available choices."),
    _("Select a valid choice. That choice is not one of the available choices."),
    _("Ensure this value is less than or equal to %(limit_value)s."),
    _("Ensure this value is greater than or equal to %(limit_value)s."),
    ngettext_lazy(
        "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    # Sign-in and passwords (django.contrib.auth).
    _(
        "Please enter a correct %(username)s and password. Note that both fields may be "
        "case-sensitive."
    ),
    _("This account is inactive."),
    _("The two password fields didn’t match."),
    _("Your old password was entered incorrectly. Please enter it again."),
    _("Old password"),
    _("New password"),
    _("New password confirmation"),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    _("The password is too similar to the %(verbose_name)s."),
    _("Your password can’t be too similar to your other personal information."),
    _("This password is too common."),
    _("Your password can’t be a commonly used password."),
    _("This password is entirely numeric."),
    _("Your password can’t be entirely numeric."),
]
