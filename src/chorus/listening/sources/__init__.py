"""Where listening's posts come from: network streams decoded into `IncomingPost`s
(:mod:`.bluesky`), and the consumer that reads a stream, resumes from its cursor after a
disconnect and reports its health (:mod:`.consumer`)."""
