"""The owner's dashboard: the app factory, its pages, templates and strings (zh-CN, English)."""
