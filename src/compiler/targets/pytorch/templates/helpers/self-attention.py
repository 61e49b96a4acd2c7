class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention(batch_first=True) with its input as query, key and value, returning the attention
    output only (need_weights=False); its parameters and their names are nn.MultiheadAttention's."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True):
        super().__init__(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True)

    def forward(self, x):
        return super().forward(x, x, x, need_weights=False)[0]
