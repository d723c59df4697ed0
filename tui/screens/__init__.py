"""Screens of the till: sale, tender, banner, viewers."""
