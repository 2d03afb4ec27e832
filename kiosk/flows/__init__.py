"""What the kiosk app does, one flow per module, each a mixin of :class:`kiosk.app.KioskApp`.

The app holds the state (Kivy properties) and the screens; a flow holds the
methods of one part of the checkout. Kivy is reached only through the app's
screens, so the layout rule (Kivy only in ``kiosk/app.py`` and
``kiosk/screens/``) still holds in spirit: a flow runs on the UI thread as the
app's own methods.

:mod:`kiosk.flows.members` is the exception: joining, phone + PIN sign-in and My
account are one :class:`~kiosk.flows.members.MemberFlow` object the app holds as
``app.member_flow``, so its state (the phone typed, the PIN steps) is cleared in
one call on every reset.
"""
