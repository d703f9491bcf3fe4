"""Workers that own side effects and database state: cases, audience fan-out, SMS dispatch, audit."""
