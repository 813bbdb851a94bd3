//! The real tokens of a right-padded batch: gathered once into `[tokens, ·]` for the unpadded
//! execution of FlexBERT, ModernBERT and MosaicBERT, and scattered back into `[B, S, ·]`.

use tch::{Kind, Tensor};

/// Where the real tokens of a right-padded `[B, S]` batch are.
pub struct RealTokens {
    /// Flat positions (in `B·S`) of the real tokens, row by row.
    index: Tensor,
    /// Real tokens per row (read on the host: one sync on CUDA).
    pub lengths: Vec<i64>,
    batch: i64,
    seq: i64,
}

impl RealTokens {
    /// The real tokens of `attention_mask` (`[B, S]`, nonzero at real tokens, right-padded).
    ///
    /// `lengths` are the rows' real-token counts when the caller knows them on the host (the
    /// input generator does); without them they are read back from the mask, a device-to-host
    /// copy (a sync on CUDA). Finding the positions (`nonzero`) syncs on CUDA either way, since
    /// its output size depends on the data.
    pub fn new(attention_mask: &Tensor, lengths: Option<&[i64]>) -> Self {
        let size = attention_mask.size();
        let real = attention_mask.ne(0);
        let lengths = match lengths {
            Some(lengths) => lengths.to_vec(),
            None => Vec::<i64>::try_from(
                real.sum_dim_intlist(1, false, Kind::Int64)
                    .to_device(tch::Device::Cpu),
            )
            .unwrap_or_default(),
        };
        Self {
            index: real.view([-1]).nonzero().squeeze_dim(1),
            lengths,
            batch: size[0],
            seq: size[1],
        }
    }

    /// The longest row.
    pub fn longest(&self) -> i64 {
        self.lengths.iter().copied().max().unwrap_or(0)
    }

    /// The real entries of a `[B, S]` tensor, as `[tokens]`.
    pub fn gather(&self, t: &Tensor) -> Tensor {
        t.reshape([-1]).index_select(0, &self.index)
    }

    /// Positions within their rows (0, 1, ...) of the real tokens, as `[tokens]`.
    pub fn positions(&self) -> Tensor {
        let positions = Tensor::arange(self.seq, (Kind::Int64, self.index.device()));
        positions.repeat([self.batch]).index_select(0, &self.index)
    }

    /// The first token of each row, from `[tokens, W]` to `[B, W]`.
    pub fn firsts(&self, t: &Tensor) -> Tensor {
        let starts: Vec<i64> = self
            .lengths
            .iter()
            .scan(0, |offset, &len| {
                let first = *offset;
                *offset += len;
                Some(first)
            })
            .collect();
        t.index_select(0, &Tensor::from_slice(&starts).to_device(t.device()))
    }

    /// `[tokens, W]` back to `[B, S, W]`, zeros at padding.
    pub fn repad(&self, t: &Tensor) -> Tensor {
        let width = t.size()[1];
        Tensor::zeros([self.batch * self.seq, width], (t.kind(), t.device()))
            .index_copy(0, &self.index, t)
            .view([self.batch, self.seq, width])
    }
}
