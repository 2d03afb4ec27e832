"""Campaigns: who gets which coupon and when, run idempotently; the attract screen's promotions."""
