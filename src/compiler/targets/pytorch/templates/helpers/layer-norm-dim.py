class LayerNormDim(nn.LayerNorm):
    """nn.LayerNorm over the one axis `dim` (counting the batch axis), which need not be the last."""

    def __init__(self, normalized_shape, dim, eps=1e-5, elementwise_affine=True):
        super().__init__(normalized_shape, eps=eps, elementwise_affine=elementwise_affine)
        self.dim = dim

    def forward(self, x):
        x = x.movedim(self.dim, -1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, self.dim)
