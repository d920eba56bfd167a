"""Realistic Chinese names for generated people: a surname drawn by its rough
frequency, then a one- or two-character given name. Seeded, so the example
organization is the same on every machine; generated, so no real person's
data is shipped."""

from __future__ import annotations

import random

# the common surnames, most frequent first; the weight falls off with rank
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫")

# characters common in given names, by the name's usual register; a given name
# draws one or two characters from one register, as real names mostly do
MALE_CHARS = "伟强磊军洋勇杰涛明超刚辉力建国华峰飞鹏波斌宇浩凯健俊帆帅旭宁昊然博宏志远海亮成坤鑫睿哲振兴德中庆东新立永光荣安卫军林松柏毅晨"
FEMALE_CHARS = "芳娜秀英敏静丽艳娟兰霞桂红梅玲春晓燕雪琳颖倩婷欣怡佳慧丹萍莉雯璐瑶涵楠云玉凤珍芝翠淑素月洁蓉薇"


class NameGenerator:
    def __init__(self, seed: int = 2010) -> None:
        self._rng = random.Random(seed)
        n = len(SURNAMES)
        self._cum: list[float] = []
        total = 0.0
        for i in range(n):
            total += 1.0 / (i + 8)
            self._cum.append(total)

    def surname(self) -> str:
        if self._rng.random() < 0.004:
            return self._rng.choice(COMPOUND_SURNAMES)
        return self._rng.choices(SURNAMES, cum_weights=self._cum)[0]

    def __call__(self) -> str:
        rng = self._rng
        chars = MALE_CHARS if rng.random() < 0.55 else FEMALE_CHARS
        given = rng.choice(chars)
        if rng.random() < 0.72:
            second = rng.choice(chars)
            if second != given or rng.random() < 0.3:  # 叠字 names (婷婷) exist but are rarer
                given += second
        return self.surname() + given
