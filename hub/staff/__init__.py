"""Staff at the hub: clockings from terminals paired into shifts."""
