"""The staff second factor (``STAFF_REQUIRE_2FA``): a TOTP code after the password before any
admin page, enrolment with a QR code for a staff member without a device, and single-use
recovery codes for a lost phone. Built on django-otp's TOTP and static devices."""
