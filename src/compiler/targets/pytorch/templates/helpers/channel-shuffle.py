def channel_shuffle(x, groups):
    """torchvision's shufflenetv2 channel_shuffle: channels viewed as [groups, C / groups], transposed, flattened."""
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, num_channels, height, width)


class ChannelShuffle(nn.Module):
    """nn.ChannelShuffle(groups) with a gradient (PyTorch 1.13's native channel_shuffle has none)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        return channel_shuffle(x, self.groups)
