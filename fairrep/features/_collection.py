"""Tags of the featurizers whose input is a collection of items, not a 2-D array."""

__all__ = ["ItemCollectionMixin"]


class ItemCollectionMixin:
    """scikit-learn tags of a transformer fed a sequence of items (audio files, texts).

    Its input is no 2-D array but may hold strings, and it returns float
    features whatever the input's dtype. Goes before ``TransformerMixin`` in
    the bases.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
