"""Messages to members: marketing consent, the send queue, and the channels (email, SMS, kiosk)."""
