"""The parts of the sale session (tui/services/sale_session.py): each module one side of the open basket."""
