"""Demo content: real festivals and customs, described for this project, with generated illustrations."""
