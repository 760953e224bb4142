"""Social listening: boolean queries over public posts, grouped into a workspace's topics."""
