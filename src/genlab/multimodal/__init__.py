"""Chapter 5.7: captions measured from the images, a caption tokenizer, CLIP and zero-shot classification."""
