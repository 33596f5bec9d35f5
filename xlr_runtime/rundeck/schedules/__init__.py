"""Cron schedules: Quartz expressions and the loop that fires them."""
