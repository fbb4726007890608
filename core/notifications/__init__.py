"""Messages to consumers: confirmations, reminders and replies, by SMS and email."""
