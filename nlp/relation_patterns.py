"""Lexical cues for the built-in relations, read between two mentions of one sentence.

Each cue is (relation, direction, regex). The regex is searched in the text *between* the two
mentions, where other mentions are replaced by ``<E>``. ``fwd``: first mention is the head;
``rev``: the second is. Cues ending in ``$`` must sit right before the second mention, which
may be the last of a list ("acquired <E>, <E> and Y").
"""
from __future__ import annotations

LIST = r"(?:\s*(?:the\s+)?<E>\s*(?:,|and|or|as well as|, and)\s*)*"  # "A, B and" before the tail
# the cue ends a word ("markets" is not the start of "marketed as"); then up to two modifiers ("cause serious"),
# never "by": "bought by X" is the passive, read by the "rev" cues
END = r"\b" + LIST + r"\s*(?:the|its|a|an)?\s*(?:(?!by\s)[a-z][a-z-]*\s+){0,2}$"

CUES: tuple[tuple[str, str, str], ...] = (
    # --- medical ---------------------------------------------------------------------------
    ("TREATS", "fwd", r"\b(?:treats?|treated|treating|is used (?:to treat|in|for)|are used (?:to treat|in|for)|"
     r"used (?:to treat|in the treatment of|for)|(?:is|are|was|were) (?:(?:[a-z]+ly|also|now|often|only) )?"
     r"(?:(?:(?:(?:FDA|<E>)[- ]?)?approved|indicated|effective|prescribed|given|"
     r"approved by (?:the )?(?:U\.?S\.? )?(?:FDA|<E>)) (?:for|in|to treat|against)|recommended (?:for|to treat))|"
     r"(?:relieves?|controls?|lowers?|manages?|reduces?|improves?|alleviates?|prevents?)|"
     r"(?:a|the|first-line|standard|effective|mainstay) (?:of )?(?:[\w-]+ )?(?:treatment|therapy|drug|option) (?:for|of|in)|"
     r"(?:for|in) the (?:treatment|management) of|therapy for|remains? (?:a|the) [\w-]+ (?:for|of)|"
     r"(?:shown |demonstrated |proven )?(?:efficacy|effective|activity|benefit) (?:against|in|for))" + END),
    ("TREATS", "rev", r"^\s*,\s*(?:doctors|clinicians|physicians|guidelines)\s+(?:\w+\s+)?(?:reach for|recommend|prescribe|use|favou?r)\s*$"),
    ("TREATS", "rev", r"^(?:\s*(?:patients|adults|children|people|subjects)?\s*(?:with\s+<E>\s*)?(?:were|was|are|is|being)?\s*"
     r"(?:treated|managed|given|receiving|received|controlled|who received|on)\s+(?:with\s+)?)\s*$"),
    ("TREATS", "rev", r"\b(?:treatment|therapy|management) (?:of|for)\s*$|^\s*(?:is|are|was|were)?\s*(?:often |usually |commonly |typically )?"
     r"(?:treated|managed|controlled) (?:with|using|by)" + END),
    ("CAUSES", "fwd", r"(?:^-?\s*(?:induced|associated|related)\s*$)|\b(?:causes?|caused|causing|induces?|induced|"
     r"(?:can|may|could|might) (?:also |often |sometimes |rarely |occasionally |commonly |frequently )?"
     r"(?:cause|lead to|trigger|induce|result in)|"
     r"(?:leads?|led) to|triggers?|results? in|(?:is|are|was|were) (?:linked|associated) with (?:an? )?(?:increased |higher )?"
     r"(?:risk of|cases of)|increases? the risk of|side effects? (?:such as|including|like|of)|"
     r"adverse (?:effects?|events?|reactions?) (?:such as|including|like)|reported|"
     r"(?:users|patients|people) (?:\w+ )?(?:experience|develop|report|get))" + END),
    # "Its best-known adverse effect is lactic acidosis", "X's side effects include nausea": the copula names the
    # effect itself, so no word other than a modifier may follow ("side effects are rare in T2D" says no fact)
    ("CAUSES", "fwd", r"\b(?:side|adverse) (?:effects?|events?|reactions?) (?:is|are|was|were|includes?|included)\b"
     + LIST + r"\s*(?:the|a|an)?\s*(?:(?!(?:by|in|of|for|with|among|to|at|on)\s)[a-z][a-z-]*\s+)?$"),
    ("CAUSES", "fwd", r"^\s+(?:\w+ )?(?:develops?|experiences?|gets?)" + END),
    ("CAUSES", "fwd", r"^\s+(?:users|patients|recipients) (?:\w+ )?(?:experience|develop|report|get)" + END),
    ("CAUSES", "rev", r"^\s*(?:was|were|is|are|has been|have been)?\s*(?:caused|induced|triggered|provoked) by"
     r"|^\s*(?:associated with|due to|after|following|secondary to|attributed to)\s+(?:the\s+)?(?:use of|treatment with|exposure to|taking|intake of)?\s*$"
     r"|^\s*(?:is|are)\s+(?:a|an|the)?\s*(?:known|common|rare|serious|recognised|recognized)?\s*(?:side effect|adverse effect|complication) of\s*$"),
    ("INTERACTS_WITH", "fwd", r"\b(?:interacts? with|interaction (?:with|between)|(?:should|must) not be (?:combined|taken|given|used) "
     r"(?:with|together with|alongside)|(?:raises?|increases?|lowers?|reduces?) (?:the )?(?:levels?|concentrations?|effects?) of|"
     r"potentiates?|contraindicated with|not be co-administered with)" + END),
    ("MANUFACTURES", "fwd", r"\b(?:manufactures?|makes?|produces?|markets?|sells?|developed|develops|launched|"
     r"(?:is|are) the (?:maker|manufacturer|producer) of)" + END),
    ("MANUFACTURES", "rev", r"^\s*(?:,\s*)?(?:which is |is |are |was )?(?:made|manufactured|produced|marketed|developed|sold)\s+by\s*$"
     r"|^\s*(?:,\s*)?(?:a (?:drug|product|medicine) (?:of|from))\s*$"),
    ("ASSOCIATED_WITH", "fwd", r"\b(?:presents? with|(?:is|are) characteri[sz]ed by|(?:frequently |often |commonly )?"
     r"(?:reports?|experiences?|develops?)|(?:is|are|was|were) (?:strongly |closely )?(?:associated|linked|correlated) with|"
     r"(?:is|are) a (?:major |known |common )?risk factor for|raises? the risk of|increases? (?:the )?(?:risk|likelihood) of|"
     r"(?:often |frequently |commonly )?(?:co-?occurs?|accompanies) with)" + END),
    ("ASSOCIATED_WITH", "rev", r"^\s*(?:is|are|was|were)\s+(?:a|an|the)?\s*(?:common |typical |frequent |known |classic )?"
     r"(?:symptom|sign|feature|manifestation|complication) of\s*$"
     r"|^\s*(?:is|are|was|were)\s+(?:\w+\s+)?(?:seen|observed|found|common|frequent|reported) (?:in|among)\s*$"),
    ("CAUSES", "rev", r"\b(?:reported|seen|observed|described) (?:in|among) (?:patients|people|users|adults|children) "
     r"(?:taking|on|given|receiving|treated with)\s*$"),
    # --- financial -------------------------------------------------------------------------
    ("ACQUIRED", "fwd", r"\b(?:acquired|acquires|acquire|acquiring|bought|buys|buy|purchased|purchases|took over|takes over|"
     r"(?:acquisition|purchase|takeover|buyout) of|(?:agreed|agreement|deal|plans|offer|bid) to (?:acquire|buy|purchase|take over)|"
     r"completed (?:its|the) (?:acquisition|purchase|takeover) of|snapped up|absorbed)" + END),
    ("ACQUIRED", "rev", r"^\s*(?:,\s*)?(?:was|were|has been|had been|is being|will be|to be)?\s*(?:acquired|bought|purchased|"
     r"taken over|snapped up|absorbed)\s+by\s*$|^['\u2019]s\s+(?:acquisition|purchase|takeover|sale)\s+(?:by|to)\s*$"
     r"|^\s*(?:,\s*)?(?:which|that) (?:was|were) (?:acquired|bought|purchased) by\s*$"),
    ("SUBSIDIARY_OF", "fwd", r"^\s*(?:,\s*)?(?:is |was |, )?(?:a|an|the)\s+(?:wholly[- ]owned |fully[- ]owned |majority[- ]owned )?"
     r"(?:(?:\w+|<E>)(?:-\w+)*\s+){0,2}(?:subsidiary|unit|division|arm|affiliate) of\s*$|\b(?:is|became|becomes|operates as) (?:a|an) "
     r"(?:wholly[- ]owned |fully[- ]owned )?(?:subsidiary|unit|division|arm) of" + END + r"|\b(?:owned|controlled) by\s*$"),
    ("SUBSIDIARY_OF", "rev", r"\b(?:its|their) (?:\w+\s+)?(?:subsidiary|unit|division|arm)\s*,?\s*$|\b(?:owns|controls|parent (?:company )?of)\s*$"),
    ("CEO_OF", "fwd", r"^\s*(?:,\s*)?(?:the\s+)?(?:chief executive(?: officer)?|ceo|c\.e\.o\.|managing director|head|chief)\s+(?:of|at)\s*$"
     r"|\b(?:(?:is|was|became|becomes|serves as|served as|named|appointed|as)\s+(?:the\s+)?(?:new\s+)?(?:chief executive(?: officer)?|ceo)\s+(?:of|at)"
     r"|leads|runs|heads|(?:took|takes) the helm (?:of|at))" + END),
    ("CEO_OF", "rev", r"^['\u2019]s\s+(?:new\s+)?(?:chief executive(?: officer)?|ceo|boss|chief)\s*,?\s*$"
     r"|^\s*(?:,\s*)?(?:whose|where|which is led by|led by|run by|headed by)\s*(?:chief executive|ceo)?\s*,?\s*$"
     r"|\b(?:chief executive(?: officer)?|ceo)\s*,?\s*$"),
    ("HEADQUARTERED_IN", "fwd", r"\b(?:(?:is |are |was )?(?:headquartered|based|located) in|(?:has|have) (?:its|their) "
     r"(?:headquarters|head office|main office|base) in|headquarters (?:are|is) in|moved (?:its|their) headquarters to|"
     r"relocated (?:its|their) (?:headquarters|head office) to)" + END),
    ("HEADQUARTERED_IN", "rev", r"^-?\s*(?:based|headquartered)\s*(?:<E>)?\s*$"),
    ("INVESTED_IN", "fwd", r"\b(?:invested|invests|invest|investing|(?:took|takes|taken|taking|acquired|bought) an? (?:[\w.%-]+\s+){0,2}?(?:stake|interest|share) in|"
     r"(?:led|joined|participated in|co-led) (?:a|an|the) [^<]{0,60}?(?:round|financing|investment) (?:in|for|of)|"
     r"backed|(?<!\bthe )(?<!\bits )(?<!\btheir )(?<!\bnew )(?<!\bof )(?<!\bthese )(?<!\braised )(?:backs|funds)|funded|injected [^<]{0,40} into|put [^<]{0,40} into)" + END),
    ("INVESTED_IN", "rev", r"^\s*(?:,\s*)?(?:which is |is |was |were |has been )?(?:backed|funded|financed) by\s*$"
     r"|\b(?:raised|secured|closed) [^<]{0,60}?\bfrom\s*$"),
    ("PARTNERED_WITH", "fwd", r"\b(?:partnered|partners|partnering|teamed up|teams up|allied|collaborat(?:ed|es|ing)|"
     r"signed (?:a|an) [^<]{0,50}?(?:partnership|agreement|alliance|deal|collaboration) with|"
     r"(?:formed|entered|announced|struck) (?:a|an|into an?) [^<]{0,50}?(?:partnership|alliance|joint venture|collaboration) with|"
     r"(?:partnership|alliance|joint venture|collaboration) with|will work with|joined forces with)(?: with)?" + END),
)
# Cues that contain a negation themselves ("should not be combined with") are removed before the check.
NEGATED_CUES = r"\b(?:should|must|cannot|can not|may not|is not to|are not to) (?:not )?be (?:combined|taken|given|used|co-administered|mixed)"
NEGATION = r"\b(?:not|no|never|neither|nor|denied|declined to|failed to|did not|does not|didn't|doesn't|won't|rumou?red)\b"

# Cues that also need the text right after the second mention: (relation, direction, middle, right).
RIGHT_CUES: tuple[tuple[str, str, str, str], ...] = (
    ("HEADQUARTERED_IN", "fwd", r"^\s*,\s*(?:a|an|the)\s*$", r"^(?:-based|\s+based|\s+[a-z])"),
    ("HEADQUARTERED_IN", "fwd", r"^\s+(?:of|from)\s*$", r"^(?:\s*[,.;]|\s+(?:has|have|had|is|was|will|said|announced))"),
    ("CEO_OF", "fwd", r"^\s*,\s*$", r"^['\u2019]s\s+(?:new\s+)?(?:chief executive(?: officer)?|ceo|boss|founder and ceo)\b"),
    # "Erik Halvorsen, who founded the firm and still serves as its CEO": the organisation is the "its"
    ("CEO_OF", "fwd", r"\b(?:is|was|became|becomes|remains|(?:serves|served|acts|acted|remains|stays) as)\s*$",
     r"^\s+(?:new\s+)?(?:chief executive(?: officer)?|ceo|managing director)\b"),
    ("SUBSIDIARY_OF", "fwd", r"^\s*,\s*(?:a|an|the)\s*$", r"^(?:-based|\s+based)\s+(?:\w+\s+){0,3}?(?:subsidiary|unit|division|arm) of\b"),
)
# Cues read only when one of the pair is a funding round standing for the organisation that raised it
# ("The round was led by X, with Y also investing"; "X led the round"); no other cue reads such a pair.
ROUND_CUES: tuple[tuple[str, str, str], ...] = (
    ("INVESTED_IN", "rev", r"^\s*(?:was|were|is|has been|had been)?\s*(?:(?:co-)?led|anchored|joined|backed|supported|"
     r"funded|financed|provided) by(?:\s*<E>\s*,?\s*(?:with|alongside|and|as well as|plus)"
     r"(?: participation from| support from| contributions from)?)?" + END),
    ("INVESTED_IN", "rev", r"^\s*(?:also\s+)?(?:included|includes|drew|attracted|saw participation from|featured)" + END),
    ("INVESTED_IN", "fwd", r"\b(?:(?:co-)?led|anchored|joined|participated in|backed|invested in|took part in)\s*$"),
)
EXTRA_CUES: tuple[tuple[str, str, str], ...] = (
    ("INVESTED_IN", "rev", r"\b(?:raised|secured|closed|landed)\b[^<]{0,80}?\b(?:from|led by|backed by|funded by)\s*$"),
    ("TREATS", "rev", r"\b(?:treated|managed|cured) with\b[^<]{0,50}?\b(?:around|on|including|containing|of|combining)" + END),
)
