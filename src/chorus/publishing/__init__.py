"""Publishing: posts and their per-account variants, schedules, queues, the dispatcher."""
