"""Tools for the people who write and run the course (not for learners): editions, GIFs, progress merging."""
